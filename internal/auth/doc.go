// Package auth is GatheRing's identity layer: password hashing, access and
// refresh tokens, personal API keys, revocation, login throttling and the
// audit trail. Every authenticated request goes through
// [Service.Authenticate]; the HTTP layer only extracts the credential (see
// [BearerFromRequest]) and maps the errors returned here to status codes.
//
// # Passwords
//
// bcrypt reads at most 72 bytes of its input, so two passwords sharing their
// first 72 bytes would verify against each other. New hashes therefore
// pre-hash the password: the bcrypt input is the standard base64 encoding of
// SHA-256(password) (44 ASCII bytes, no NUL), so every byte of a password of
// up to 128 characters counts. The stored form is tagged so it can never be
// mistaken for a plain bcrypt hash:
//
//	bcrypt-sha256$<bcrypt hash of base64(sha256(password))>
//
// [CheckPassword] also accepts an untagged bcrypt hash ($2a$, $2b$, $2y$),
// such as an operator-supplied ADMIN_PASSWORD_HASH; such a hash is compared
// against the raw password, and a password longer than 72 bytes never
// verifies against it.
//
// # Tokens
//
// Access tokens are HS256 JWTs whose parser is pinned to HS256, the
// configured issuer, and required exp and iat; they carry sub (the user id),
// role, email, iat, nbf, exp, jti (128 random bits), iss and fid (the refresh
// family of the login). The role in the token is informational only:
// Authenticate always uses the user's current role from the database, so a
// demotion or a deactivation takes effect on the next request.
//
// Refresh tokens ("gthr_" + 256 random bits) and API keys ("gth_" + 256
// random bits) are opaque; only their SHA-256 (hex) is stored. They are
// looked up by hash, and the stored hash is then compared in constant time.
// Refresh tokens rotate on every use; presenting a used one again revokes
// its whole family.
//
// # Revocation
//
// A revoked access token id is written to the database first, then to a
// bounded in-process LRU. The check consults the LRU for positive hits only
// and asks the database on every miss, so a revocation made by another
// instance is honoured at once; a database error rejects the request
// (EUNAVAILABLE) instead of letting it through. [Service.Purger] deletes
// expired revocations periodically.
package auth
