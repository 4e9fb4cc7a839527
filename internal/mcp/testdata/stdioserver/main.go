// Command stdioserver is a tiny MCP server on standard input and output for
// the tests of package mcp.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"os/exec"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

type getenvIn struct {
	Name string `json:"name"`
}

type getenvOut struct {
	Value string `json:"value"`
}

type pidOut struct {
	PID int `json:"pid"`
}

func main() {
	s := mcp.NewServer(&mcp.Implementation{Name: "stdioserver", Version: "test"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "getenv", Description: "Returns an environment variable."},
		func(_ context.Context, _ *mcp.CallToolRequest, in getenvIn) (*mcp.CallToolResult, getenvOut, error) {
			return nil, getenvOut{Value: os.Getenv(in.Name)}, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "pid", Description: "Returns the server's process id."},
		func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, pidOut, error) {
			return nil, pidOut{PID: os.Getpid()}, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "spawn", Description: "Starts a long sleep in the background and returns its process id."},
		func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, pidOut, error) {
			cmd := exec.Command("sleep", "60")
			if err := cmd.Start(); err != nil {
				return nil, pidOut{}, err
			}
			return nil, pidOut{PID: cmd.Process.Pid}, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "exit", Description: "Ends the server."},
		func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
			fmt.Fprintln(os.Stderr, "stdioserver: exiting on request")
			os.Exit(3)
			return nil, nil, nil
		})
	if err := s.Run(context.Background(), &mcp.StdioTransport{}); err != nil {
		log.Fatal(err)
	}
}
