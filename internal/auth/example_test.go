package auth_test

import (
	"fmt"

	"github.com/gathering/gathering/internal/auth"
)

func ExampleParseAuthorization() {
	tok, err := auth.ParseAuthorization("Bearer gth_abc123")
	fmt.Println(tok, err)
	_, err = auth.ParseAuthorization("Basic dXNlcjpwYXNz")
	fmt.Println(err)
	// Output:
	// gth_abc123 <nil>
	// unauthorized: Authorization must use the Bearer scheme
}

func ExampleNormalizeEmail() {
	fmt.Println(auth.NormalizeEmail("  Ada@Example.COM "))
	// Output: ada@example.com
}
