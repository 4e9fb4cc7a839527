package store_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// sqlMethods take a SQL text; its argument must be a constant.
var sqlMethods = map[string]bool{
	"Exec": true, "ExecContext": true, "Query": true, "QueryContext": true,
	"QueryRow": true, "QueryRowContext": true, "Prepare": true, "PrepareContext": true,
}

// TestSQLIsNeverBuiltFromVariables reads every non-test Go file of the
// module and fails when a query or statement is run with SQL text that is
// not built only from string literals and constants: values must go in as
// parameters. A call whose text is assembled from fixed fragments (never
// from input) may say so with a "sqlcheck: <reason>" comment on its line or
// the line above.
func TestSQLIsNeverBuiltFromVariables(t *testing.T) {
	t.Parallel()
	root := filepath.Join("..", "..")
	files := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		files++
		checkFile(t, path)
		return nil
	})
	if err != nil || files < 20 {
		t.Fatalf("walked %d files: %v", files, err)
	}
}

func checkFile(t *testing.T, path string) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	consts, excused := constNames(f), excusedLines(fset, f)
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok || !sqlMethods[sel.Sel.Name] {
			return true
		}
		line := fset.Position(call.Pos()).Line
		if excused[line] || excused[line-1] {
			return true
		}
		if arg := sqlArgument(call); arg != nil && !constant(arg, consts) {
			t.Errorf("%s: %s runs SQL built from variables; pass values as parameters", fset.Position(arg.Pos()), sel.Sel.Name)
		}
		return true
	})
}

// sqlArgument is the first argument after a leading context, or nil.
func sqlArgument(call *ast.CallExpr) ast.Expr {
	for _, arg := range call.Args {
		if id, ok := arg.(*ast.Ident); ok && (id.Name == "ctx" || strings.HasSuffix(id.Name, "Ctx")) {
			continue
		}
		if c, ok := arg.(*ast.CallExpr); ok && isContextCall(c) {
			continue
		}
		return arg
	}
	return nil
}

func isContextCall(c *ast.CallExpr) bool {
	sel, ok := c.Fun.(*ast.SelectorExpr)
	return ok && (sel.Sel.Name == "Context" || sel.Sel.Name == "Background" || sel.Sel.Name == "TODO")
}

// constant reports whether e is built only from string literals and
// constants of the file.
func constant(e ast.Expr, consts map[string]bool) bool {
	switch x := e.(type) {
	case *ast.BasicLit:
		return x.Kind == token.STRING
	case *ast.Ident:
		return consts[x.Name]
	case *ast.BinaryExpr:
		return x.Op == token.ADD && constant(x.X, consts) && constant(x.Y, consts)
	case *ast.ParenExpr:
		return constant(x.X, consts)
	case *ast.SelectorExpr: // a field such as m.SQL: embedded migration text
		return x.Sel.Name == "SQL"
	}
	return false
}

func constNames(f *ast.File) map[string]bool {
	names := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		if g, ok := n.(*ast.GenDecl); ok && g.Tok == token.CONST {
			for _, spec := range g.Specs {
				for _, name := range spec.(*ast.ValueSpec).Names {
					names[name.Name] = true
				}
			}
		}
		return true
	})
	return names
}

// excusedLines are the lines holding a "sqlcheck:" comment with a reason.
func excusedLines(fset *token.FileSet, f *ast.File) map[int]bool {
	lines := map[int]bool{}
	for _, group := range f.Comments {
		for _, c := range group.List {
			if reason, ok := strings.CutPrefix(strings.TrimSpace(strings.TrimPrefix(c.Text, "//")), "sqlcheck:"); ok && strings.TrimSpace(reason) != "" {
				lines[fset.Position(c.Pos()).Line] = true
			}
		}
	}
	return lines
}
