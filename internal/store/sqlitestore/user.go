package sqlitestore

import (
	"context"
	"database/sql"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// userColumns are the columns scanUser reads, in order.
const userColumns = `id, email, name, role, is_active, password_hash, created_at, updated_at, last_login_at`

// scanUser reads one users row, converting its times to UTC.
func scanUser(row scanner) (gathering.User, error) {
	var u gathering.User
	var created, updated int64
	var lastLogin sql.NullInt64
	err := row.Scan(&u.ID, &u.Email, &u.Name, &u.Role, &u.IsActive, &u.PasswordHash, &created, &updated, &lastLogin)
	u.CreatedAt, u.UpdatedAt, u.LastLoginAt = fromMS(created), fromMS(updated), fromNullMS(lastLogin)
	return u, err
}

// emailTaken turns a unique violation on users into the caller-facing
// ECONFLICT; other errors are translated as usual.
func emailTaken(err error, what string) error {
	if code, _ := classify(err); code == gathering.ECONFLICT {
		return &gathering.Error{Code: gathering.ECONFLICT, Message: "Email already registered", Err: err}
	}
	return translate(err, "%s", what)
}

// UserCreate inserts a user; ECONFLICT when the email is taken.
func (s *Store) UserCreate(ctx context.Context, p store.UserCreateParams) (gathering.User, error) {
	u, err := scanUser(s.write.QueryRowContext(ctx,
		`INSERT INTO users (email, name, role, is_active, password_hash, created_at, updated_at)
		 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) RETURNING `+userColumns,
		p.Email, p.Name, p.Role, p.IsActive, p.PasswordHash, p.At.UnixMilli()))
	if err != nil {
		return gathering.User{}, emailTaken(err, "create user")
	}
	return u, nil
}

// UserGetByID returns a user or ENOTFOUND.
func (s *Store) UserGetByID(ctx context.Context, id int64) (gathering.User, error) {
	u, err := scanUser(s.read.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	return u, translate(err, "get user %d", id)
}

// UserGetByEmail returns a user or ENOTFOUND.
func (s *Store) UserGetByEmail(ctx context.Context, email string) (gathering.User, error) {
	u, err := scanUser(s.read.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE email = ?`, email))
	return u, translate(err, "get user by email")
}

// UserList returns a page of users by id, and the total count.
func (s *Store) UserList(ctx context.Context, p store.Page) ([]gathering.User, int, error) {
	total, err := s.UserCount(ctx)
	if err != nil {
		return nil, 0, err
	}
	limit, offset := p.Bounds()
	rows, err := s.read.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY id LIMIT ? OFFSET ?`, limit, offset)
	if err != nil {
		return nil, 0, translate(err, "list users")
	}
	users, err := collect(rows, scanUser)
	return users, total, translate(err, "list users")
}

// UserCount counts every user, active or not.
func (s *Store) UserCount(ctx context.Context) (int, error) {
	var n int
	err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n)
	return n, translate(err, "count users")
}

// UserUpdate changes the fields that are set and bumps updated_at;
// ENOTFOUND when the user does not exist. A nil field is a NULL parameter,
// which coalesce turns into the column's current value.
func (s *Store) UserUpdate(ctx context.Context, p store.UserUpdateParams) (gathering.User, error) {
	tx, err := s.write.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the one writer
	if err != nil {
		return gathering.User{}, translate(err, "update user %d", p.ID)
	}
	defer tx.Rollback()
	before, err := activeAdmins(ctx, tx)
	if err != nil {
		return gathering.User{}, translate(err, "update user %d", p.ID)
	}
	u, err := scanUser(tx.QueryRowContext(ctx,
		`UPDATE users SET
		     name          = coalesce(?2, name),
		     role          = coalesce(?3, role),
		     is_active     = coalesce(?4, is_active),
		     password_hash = coalesce(?5, password_hash),
		     updated_at    = ?6
		 WHERE id = ?1 RETURNING `+userColumns,
		p.ID, p.Name, p.Role, p.IsActive, p.PasswordHash, p.At.UnixMilli()))
	if err != nil {
		return u, translate(err, "update user %d", p.ID)
	}
	after, err := activeAdmins(ctx, tx)
	if err != nil {
		return u, translate(err, "update user %d", p.ID)
	}
	if before > 0 && after == 0 {
		return u, gathering.Errorf(gathering.ECONFLICT, store.ErrLastAdmin)
	}
	return u, translate(tx.Commit(), "update user %d", p.ID)
}

// activeAdmins counts the active administrators.
func activeAdmins(ctx context.Context, tx *sql.Tx) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE role = 'admin' AND is_active`).Scan(&n)
	return n, err
}

// UserTouchLogin records a successful login; ENOTFOUND when the user does
// not exist.
func (s *Store) UserTouchLogin(ctx context.Context, id int64, at time.Time) error {
	res, err := s.write.ExecContext(ctx, `UPDATE users SET last_login_at = ? WHERE id = ?`, at.UnixMilli(), id)
	return affectedOne(res, err, "touch login of user %d", id)
}
