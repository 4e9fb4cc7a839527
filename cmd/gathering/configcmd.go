package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/gathering/gathering/internal/config"
)

const configHelp = `Print the effective configuration: every setting, its value (secrets and
URL passwords masked) and where it came from (default, environment or flag).
It takes the same flags as serve and changes nothing.`

func showConfig(_ context.Context, args []string, e env) int {
	cfg, code := loadConfig(newFlagSet("config", configHelp, e), args, e)
	if cfg == nil {
		return code
	}
	if cfg.SecretKey != "" {
		cfg.SecretKeySource = "environment"
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VARIABLE\tVALUE\tSOURCE")
	for _, s := range config.Settings() {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Env[0], s.Show(cfg), cfg.Sources[s.Env[0]])
	}
	tw.Flush()
	if cfg.SecretKey == "" && !cfg.Production() {
		path := filepath.Join(cfg.DataDir, "secret_key")
		if _, err := os.Stat(path); err == nil {
			fmt.Fprintf(e.stdout, "\nSECRET_KEY is unset: serve uses the development secret in %s\n", path)
		} else {
			fmt.Fprintf(e.stdout, "\nSECRET_KEY is unset: serve will generate a development secret into %s\n", path)
		}
	}
	return exitOK
}
