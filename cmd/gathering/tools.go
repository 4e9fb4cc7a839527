package main

import (
	"log/slog"

	"github.com/gathering/gathering/internal/builtin"
	"github.com/gathering/gathering/internal/builtin/web"
	"github.com/gathering/gathering/internal/config"
	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/mcp"
	"github.com/gathering/gathering/internal/netguard"
	"github.com/gathering/gathering/internal/servertools"
	"github.com/gathering/gathering/internal/startstop"
	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/tool"
)

// skillDocs present the built-in skills.
var skillDocs = map[string]tool.SkillDoc{
	"fs":     {DisplayName: "Files", Category: "workspace", Description: "List, read, write, move, delete and search files inside a project's workspace."},
	"git":    {DisplayName: "Git", Category: "workspace", Description: "Status, log, diff, branches, staging and commits of a project's repository."},
	"shell":  {DisplayName: "Shell", Category: "system", Description: "Run an allow-listed program in a project's workspace (dangerous: every call needs a confirmation)."},
	"calc":   {DisplayName: "Calculator", Category: "general", Description: "Evaluate arithmetic expressions exactly and safely."},
	"http":   {DisplayName: "HTTP", Category: "network", Description: "Call web APIs; internal addresses are refused unless allow-listed."},
	"notify": {DisplayName: "Notifications", Category: "network", Description: "Send signed webhook notifications."},
	"mcp":    {DisplayName: "MCP servers", Category: "integrations", Description: "Tools of the configured Model Context Protocol servers."},
	servertools.Skill: {DisplayName: "GatheRing", Category: "collaboration",
		Description: "Create circle tasks, start pipeline runs, schedule actions and update goals, as the user the agent works for."},
}

// newTools builds the tool registry with the built-in skills (whose fs, git
// and shell tools work in the projects ws resolves) and the MCP servers'
// tools, and the executor every call goes through. The returned
// components start after the bus and stop before it.
func newTools(cfg *config.Config, db store.Store, ws builtin.Workspaces, bus *event.Bus, log *slog.Logger) (*tool.Executor, *mcp.Client, []startstop.Named, error) {
	allow, err := netguard.ParseAllowList(cfg.OutboundAllowList)
	if err != nil {
		return nil, nil, nil, err
	}
	servers, err := mcp.ParseServers(cfg.MCPServers)
	if err != nil {
		return nil, nil, nil, err
	}
	reg := tool.NewRegistry()
	tools := builtin.Tools(builtin.Options{Workspaces: ws, ShellPrograms: cfg.ShellPrograms})
	for _, t := range append(tools, web.Tools(web.Options{AllowList: allow})...) {
		if err := reg.Register(t); err != nil {
			return nil, nil, nil, err
		}
	}
	for skill, doc := range skillDocs {
		reg.DescribeSkill(skill, doc)
	}
	exec := tool.NewExecutor(reg, db, bus, tool.ExecutorOptions{
		Instance:       bus.Instance(),
		ConfirmTimeout: cfg.ToolConfirmTimeout,
		Concurrency:    cfg.ToolConcurrency,
		Exclusive:      db.Backend() == store.SQLite,
		Logger:         log,
	})
	var components []startstop.Named
	var client *mcp.Client
	if len(servers) > 0 {
		// The servers are the operator's own configuration, so they are
		// reached without the SSRF guard that protects user-given URLs.
		client = mcp.New(servers, reg, mcp.Options{Logger: log})
		components = append(components, startstop.Named{Name: "MCP client", Service: client})
	}
	components = append(components, startstop.Named{Name: "tool executor", Service: exec})
	return exec, client, components, nil
}
