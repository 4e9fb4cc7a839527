package builtin

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/gathering/gathering/internal/fsguard"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/tool"
)

// fsTimeout bounds one fs tool call.
const fsTimeout = 30 * time.Second

type fsPathInput struct {
	project
	Path string `json:"path"`
}

type fsWriteInput struct {
	project
	Path    string `json:"path"`
	Content string `json:"content"`
}

type fsMoveInput struct {
	project
	From string `json:"from"`
	To   string `json:"to"`
}

type fsSearchInput struct {
	project
	Path     string `json:"path"`
	Name     string `json:"name"`
	Contains string `json:"contains"`
	Limit    int    `json:"limit"`
}

// fsTools returns the fs skill.
func fsTools(ws workspaces) []tool.Tool {
	return []tool.Tool{fsList(ws), fsRead(ws), fsWrite(ws), fsDelete(ws), fsMove(ws), fsSearch(ws)}
}

// fsTool fills in what every fs tool shares.
func fsTool(t tool.Tool, perm tool.Permission) tool.Tool {
	t.Permissions = []tool.Permission{perm}
	t.Timeout = fsTimeout
	return t
}

func fsList(ws workspaces) tool.Tool {
	return fsTool(tool.Tool{
		Name:        "fs.list",
		Description: "List the entries (files and directories) of one directory of the project's workspace, sorted by name. Secret files are never listed.",
		Input: mustJSON(object(withProject(map[string]prop{
			"path": pathProp("The directory to list; omit it for the workspace root."),
		}), "project_id")),
		Output: output(map[string]prop{"entries": typ("array")}),
		Run: body(func(ctx context.Context, in fsPathInput) (any, error) {
			return ws.withPath(ctx, in.ProjectID, "/path", func(dir *fsguard.Dir) (any, error) {
				entries, err := dir.List(in.Path)
				return map[string]any{"entries": entries}, err
			})
		}),
	}, tool.PermFSRead)
}

func fsRead(ws workspaces) tool.Tool {
	return fsTool(tool.Tool{
		Name:        "fs.read",
		Description: "Read a UTF-8 text file of the project's workspace (at most 10 MiB). Binary files are refused.",
		Input: mustJSON(object(withProject(map[string]prop{
			"path": pathProp("The file to read."),
		}), "project_id", "path")),
		Output: output(map[string]prop{"path": typ("string"), "content": typ("string"), "size": typ("integer")}),
		Run: body(func(ctx context.Context, in fsPathInput) (any, error) {
			return ws.withPath(ctx, in.ProjectID, "/path", func(dir *fsguard.Dir) (any, error) {
				return readText(dir, in.Path)
			})
		}),
	}, tool.PermFSRead)
}

// readText reads file p and refuses it unless it is valid UTF-8.
func readText(dir *fsguard.Dir, p string) (any, error) {
	clean, err := fsguard.CleanPath(p)
	if err != nil {
		return nil, err
	}
	data, err := dir.Read(clean)
	if err != nil {
		return nil, err
	}
	if !utf8.Valid(data) {
		return nil, fieldError(gathering.EINVALID, "/path", fmt.Sprintf("%q is a binary file (not valid UTF-8) and cannot be read as text.", clean))
	}
	return map[string]any{"path": clean, "content": string(data), "size": len(data)}, nil
}

func fsWrite(ws workspaces) tool.Tool {
	return fsTool(tool.Tool{
		Name: "fs.write",
		Description: "Create or replace a text file in the project's workspace with the given content (at most 10 MiB), " +
			"creating missing parent directories. The whole file is replaced atomically.",
		Input: mustJSON(object(withProject(map[string]prop{
			"path":    pathProp("The file to write."),
			"content": prop{"type": "string", "description": "The complete new content of the file."},
		}), "project_id", "path", "content")),
		Output: output(map[string]prop{"path": typ("string"), "size": typ("integer")}),
		Run: body(func(ctx context.Context, in fsWriteInput) (any, error) {
			return ws.withPath(ctx, in.ProjectID, "/path", func(dir *fsguard.Dir) (any, error) {
				clean, err := fsguard.CleanPath(in.Path)
				if err == nil {
					err = dir.Write(clean, []byte(in.Content))
				}
				return map[string]any{"path": clean, "size": len(in.Content)}, err
			})
		}),
	}, tool.PermFSWrite)
}

func fsDelete(ws workspaces) tool.Tool {
	return fsTool(tool.Tool{
		Name:        "fs.delete",
		Description: "Delete a file, or an empty directory, of the project's workspace.",
		Input: mustJSON(object(withProject(map[string]prop{
			"path": pathProp("The file or empty directory to delete."),
		}), "project_id", "path")),
		Output: output(map[string]prop{"path": typ("string"), "deleted": typ("boolean")}),
		Run: body(func(ctx context.Context, in fsPathInput) (any, error) {
			return ws.withPath(ctx, in.ProjectID, "/path", func(dir *fsguard.Dir) (any, error) {
				clean, err := fsguard.CleanPath(in.Path)
				if err == nil {
					err = dir.Delete(clean)
				}
				return map[string]any{"path": clean, "deleted": true}, err
			})
		}),
	}, tool.PermFSWrite)
}

func fsMove(ws workspaces) tool.Tool {
	return fsTool(tool.Tool{
		Name:        "fs.move",
		Description: "Move or rename a file or directory of the project's workspace. The destination must not exist; its parent directories are created.",
		Input: mustJSON(object(withProject(map[string]prop{
			"from": pathProp("The file or directory to move."),
			"to":   pathProp("Its new path."),
		}), "project_id", "from", "to")),
		Output: output(map[string]prop{"from": typ("string"), "to": typ("string")}),
		Run: body(func(ctx context.Context, in fsMoveInput) (any, error) {
			return ws.with(ctx, in.ProjectID, func(_ string, dir *fsguard.Dir) (any, error) {
				from, err := fsguard.CleanPath(in.From)
				if err != nil {
					return nil, atField(err, "/from")
				}
				to, err := fsguard.CleanPath(in.To)
				if err != nil {
					return nil, atField(err, "/to")
				}
				if err := dir.Move(from, to); err != nil {
					return nil, err
				}
				return map[string]any{"from": from, "to": to}, nil
			})
		}),
	}, tool.PermFSWrite)
}

func fsSearch(ws workspaces) tool.Tool {
	return fsTool(tool.Tool{
		Name: "fs.search",
		Description: "Search the project's workspace, below an optional directory. With 'name' (a glob such as '*.go'), " +
			"find files and directories by name; with 'contains', find the lines of text files that contain that exact text " +
			"(both together: lines in files whose name matches). Give at least one of them. Secret files, symbolic links and binary files are skipped.",
		Input:  mustJSON(fsSearchSchema()),
		Output: output(map[string]prop{"matches": typ("array")}),
		Run: body(func(ctx context.Context, in fsSearchInput) (any, error) {
			return ws.withPath(ctx, in.ProjectID, "/path", func(dir *fsguard.Dir) (any, error) {
				matches, err := dir.Search(in.Path, in.Name, in.Contains, in.Limit)
				if matches == nil {
					matches = []fsguard.Match{}
				}
				return map[string]any{"matches": matches}, err
			})
		}),
	}, tool.PermFSRead)
}

func fsSearchSchema() prop {
	s := object(withProject(map[string]prop{
		"path":     pathProp("The directory to search; omit it for the whole workspace."),
		"name":     str("A glob the base name must match: * any run of characters, ? one character, [a-z] a class.", 1, 200),
		"contains": str("Exact text a line must contain (case-sensitive).", 1, 1000),
		"limit":    integer("The most matches to return (default 100).", 1, fsguard.MaxSearchLimit),
	}), "project_id")
	s["anyOf"] = []prop{{"required": []string{"name"}}, {"required": []string{"contains"}}}
	return s
}
