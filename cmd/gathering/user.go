package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/gathering/gathering/internal/auth"
	"github.com/gathering/gathering/internal/config"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

const userHelp = `Manage accounts from the operator's shell (works on a fresh database: it
migrates first).

  gathering user create --email E [--role admin|member|viewer] [--name N]
  gathering user list
  gathering user set-role --email E --role R
  gathering user deactivate --email E
  gathering user reset-password --email E

create and reset-password read the password from a prompt on a terminal, or
as one line on standard input otherwise; never from a flag.`

// userAction is one `gathering user` subcommand, given the parsed flags.
type userAction func(ctx context.Context, u *userCommand) error

// userCommand is what every user subcommand works with.
type userCommand struct {
	env               env
	db                store.Store
	svc               *auth.Service
	email, name, role string
}

func user(ctx context.Context, args []string, e env) int {
	actions := map[string]userAction{
		"create": userCreate, "list": userList, "set-role": userSetRole,
		"deactivate": userDeactivate, "reset-password": userResetPassword,
	}
	if len(args) == 0 || actions[args[0]] == nil {
		fs := newFlagSet("user", userHelp, e)
		fs.Usage()
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return exitOK
		}
		return exitUsage
	}
	u := &userCommand{env: e}
	fs := newFlagSet("user "+args[0], userHelp, e)
	fs.StringVar(&u.email, "email", "", "the account's email")
	fs.StringVar(&u.name, "name", "", "display name (create; default: the part of the email before @)")
	fs.StringVar(&u.role, "role", "", "admin, member or viewer (create: default member)")
	cfg, code := loadConfig(fs, args[1:], e)
	if cfg == nil {
		return code
	}
	if err := u.open(ctx, cfg); err != nil {
		return fail(e, "%v", err)
	}
	defer u.db.Close()
	if err := actions[args[0]](ctx, u); err != nil {
		return fail(e, "user %s: %s", args[0], describe(err))
	}
	return exitOK
}

// open opens and migrates the database and builds the identity service.
func (u *userCommand) open(ctx context.Context, cfg *config.Config) error {
	if err := cfg.ResolveSecret(); err != nil {
		return err
	}
	db, err := openMigrated(ctx, cfg)
	if err != nil {
		return err
	}
	svc, err := newAuthService(cfg, db, slog.New(slog.DiscardHandler))
	if err != nil {
		db.Close()
		return err
	}
	u.db, u.svc = db, svc
	return nil
}

// describe renders an error with its field details for the terminal.
func describe(err error) string {
	msg := err.Error()
	if gathering.ErrorCode(err) != gathering.EINTERNAL {
		msg = gathering.ErrorMessage(err)
	}
	for _, f := range gathering.ErrorFields(err) {
		msg += fmt.Sprintf("\n  %s: %s", f.Field, f.Message)
	}
	return msg
}

// cliActor is the principal of an operator at the shell: an administrator
// without an account (audited as actor 0).
var cliActor = auth.Principal{Role: gathering.RoleAdmin}

func userCreate(ctx context.Context, u *userCommand) error {
	role := gathering.Role(cmp.Or(u.role, string(gathering.RoleMember)))
	if !role.Valid() {
		return fmt.Errorf("--role %q is not admin, member or viewer", u.role)
	}
	password, err := readPassword(u.env, "Password for "+u.email+": ")
	if err != nil {
		return err
	}
	name := cmp.Or(u.name, strings.SplitN(u.email, "@", 2)[0])
	created, err := u.svc.Register(ctx, auth.RegisterParams{Email: u.email, Password: password, Name: name, Role: role}, auth.RequestMeta{})
	if err != nil {
		return err
	}
	fmt.Fprintf(u.env.stdout, "created user %d: %s (%s)\n", created.ID, created.Email, created.Role)
	return nil
}

func userList(ctx context.Context, u *userCommand) error {
	tw := tabwriter.NewWriter(u.env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tEMAIL\tNAME\tROLE\tACTIVE\tLAST LOGIN")
	for offset := 0; ; offset += 200 {
		users, total, err := u.db.UserList(ctx, store.Page{Limit: 200, Offset: offset})
		if err != nil {
			return err
		}
		for _, x := range users {
			last := "-"
			if !x.LastLoginAt.IsZero() {
				last = x.LastLoginAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%t\t%s\n", x.ID, x.Email, x.Name, x.Role, x.IsActive, last)
		}
		if offset+len(users) >= total || len(users) == 0 {
			break
		}
	}
	return tw.Flush()
}

func userSetRole(ctx context.Context, u *userCommand) error {
	role := gathering.Role(u.role)
	if !role.Valid() {
		return fmt.Errorf("--role %q is not admin, member or viewer", u.role)
	}
	return u.update(ctx, auth.UserPatch{Role: &role}, "role is now "+string(role))
}

func userDeactivate(ctx context.Context, u *userCommand) error {
	inactive := false
	return u.update(ctx, auth.UserPatch{IsActive: &inactive}, "deactivated")
}

func userResetPassword(ctx context.Context, u *userCommand) error {
	target, err := u.find(ctx)
	if err != nil {
		return err
	}
	password, err := readPassword(u.env, "New password for "+target.Email+": ")
	if err != nil {
		return err
	}
	if err := u.svc.SetPassword(ctx, target.ID, password); err != nil {
		return err
	}
	fmt.Fprintf(u.env.stdout, "%s: password changed\n", target.Email)
	return nil
}

// update applies a patch to the --email user as the operator.
func (u *userCommand) update(ctx context.Context, patch auth.UserPatch, done string) error {
	target, err := u.find(ctx)
	if err != nil {
		return err
	}
	if _, err := u.svc.UpdateUser(ctx, cliActor, target.ID, patch, auth.RequestMeta{}); err != nil {
		return err
	}
	fmt.Fprintf(u.env.stdout, "%s: %s\n", target.Email, done)
	return nil
}

func (u *userCommand) find(ctx context.Context) (gathering.User, error) {
	if u.email == "" {
		return gathering.User{}, errors.New("--email is required")
	}
	found, err := u.db.UserGetByEmail(ctx, strings.ToLower(strings.TrimSpace(u.email)))
	if gathering.ErrorCode(err) == gathering.ENOTFOUND {
		return found, fmt.Errorf("no user has the email %q", u.email)
	}
	return found, err
}

// readPassword prompts without echo on a terminal, else reads one line of
// standard input.
func readPassword(e env, prompt string) (string, error) {
	if f, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(e.stderr, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		return string(b), err
	}
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		return "", errors.New("expected the password as one line on standard input")
	}
	return strings.TrimRight(line, "\r\n"), nil
}
