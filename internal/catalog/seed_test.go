package catalog_test

import (
	"context"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/catalog"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/store/storetest"
)

func TestSeedAddsWhatIsMissingOnly(t *testing.T) {
	ctx := context.Background()
	st := storetest.SQLite(t)
	want := len(catalog.Providers) + len(catalog.Models) + len(catalog.Personas)
	if n, err := catalog.Seed(ctx, st, time.Now()); err != nil || n != want {
		t.Fatalf("first seed added %d, %v; want %d", n, err, want)
	}
	if len(catalog.Personas) < 12 {
		t.Fatalf("only %d built-in personas", len(catalog.Personas))
	}
	// An administrator's change survives the next seed.
	m, err := st.ModelFind(ctx, "openai", "gpt-4o")
	if err != nil {
		t.Fatal(err)
	}
	m.PriceInput = 9.99
	if _, err := st.ModelPut(ctx, m); err != nil {
		t.Fatal(err)
	}
	if n, err := catalog.Seed(ctx, st, time.Now()); err != nil || n != 0 {
		t.Fatalf("second seed added %d, %v", n, err)
	}
	if m, _ := st.ModelFind(ctx, "openai", "gpt-4o"); m.PriceInput != 9.99 {
		t.Fatalf("the seed overwrote a price: %v", m.PriceInput)
	}
	ps, total, err := st.PersonaList(ctx, store.Page{Limit: 50})
	if err != nil || total != len(catalog.Personas) || !ps[0].IsBuiltin {
		t.Fatalf("personas: %d, %v", total, err)
	}
	if err := st.PersonaDelete(ctx, ps[0].ID); gathering.ErrorCode(err) != gathering.ECONFLICT {
		t.Fatalf("deleting a built-in persona: %v", err)
	}
	if m, err := st.ModelFind(ctx, "anthropic", "sonnet"); err != nil || m.Name != "claude-sonnet-4-5" {
		t.Fatalf("alias: %+v, %v", m, err)
	}
}
