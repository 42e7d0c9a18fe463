// Package accounts holds the console's accounts: the username and password
// policy (bcrypt), creating and changing accounts, signing in with a rate
// limit per username and per address, login sessions with their CSRF
// token, and signing out. Every change writes its audit row in the same
// transaction. The console only parses forms and renders; the CLI and the
// demo create accounts through Create.
package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"

	"github.com/learnloop/learnloop/internal/defaults"
	"github.com/learnloop/learnloop/store"
)

// Session and rate-limit policy.
const (
	// SessionLifetime is how long a sign-in lasts at most.
	SessionLifetime = 12 * time.Hour
	// SessionIdle ends a sign-in not used for this long.
	SessionIdle     = 4 * time.Hour
	seenEvery       = time.Minute
	loginWindow     = 15 * time.Minute
	maxUserFailures = 5
	maxIPFailures   = 50
)

// MinPasswordLength is the shortest password an account may have.
const MinPasswordLength = 10

// maxPasswordBytes is bcrypt's input limit.
const maxPasswordBytes = 72

// Account errors.
var (
	// ErrInvalidAccount wraps every reason an account cannot be created or
	// changed as asked.
	ErrInvalidAccount = errors.New("invalid account")
	// ErrAccountExists is returned when the username is taken.
	ErrAccountExists = errors.New("account already exists")
	// ErrNotFound means there is no such account.
	ErrNotFound = store.ErrNotFound
	// ErrLocked means too many failed sign-ins of the username or from the
	// address in the last 15 minutes.
	ErrLocked = errors.New("too many failed sign-ins")
	// ErrBadLogin means the username or the password is wrong, or the
	// account is disabled (which one is not told).
	ErrBadLogin = errors.New("wrong username or password")
)

var usernameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,63}$`)

// ValidateUsername checks a console username: 2–64 characters of lower-case
// letters, digits and ._- starting with a letter or digit; "system" and names
// starting with "api-token" are reserved for the API and the scheduler.
func ValidateUsername(u string) error {
	if !usernameRe.MatchString(u) {
		return fmt.Errorf("username %q: 2–64 lower-case letters, digits or ._- (starting with a letter or digit): %w", u, ErrInvalidAccount)
	}
	if u == "system" || u == "cli" || strings.HasPrefix(u, "api-token") {
		return fmt.Errorf("username %q is reserved: %w", u, ErrInvalidAccount)
	}
	return nil
}

// CheckPassword checks the password policy: at least MinPasswordLength
// characters and at most 72 bytes (bcrypt's limit).
func CheckPassword(p string) error {
	if utf8.RuneCountInString(p) < MinPasswordLength {
		return fmt.Errorf("password must have at least %d characters: %w", MinPasswordLength, ErrInvalidAccount)
	}
	if len(p) > maxPasswordBytes {
		return fmt.Errorf("password must be at most %d bytes: %w", maxPasswordBytes, ErrInvalidAccount)
	}
	return nil
}

// HashPassword checks p against the policy and returns its bcrypt hash.
func HashPassword(p string) (string, error) {
	if err := CheckPassword(p); err != nil {
		return "", err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(p), bcrypt.DefaultCost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// PasswordMatches reports whether p is a's password.
func PasswordMatches(a store.Account, p string) bool {
	return bcrypt.CompareHashAndPassword([]byte(a.PasswordHash), []byte(p)) == nil
}

// dummyHash is compared against when the username is unknown, so that a
// wrong username costs as much time as a wrong password.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("learnloop-no-such-user"), bcrypt.DefaultCost)

// ValidRole reports whether r is a console role.
func ValidRole(r string) bool { return slices.Contains(store.Roles, r) }

// NewAccount describes an account to create.
type NewAccount struct {
	Username    string
	DisplayName string
	Role        string
	Department  string
	Password    string
	Locale      string
}

// Service runs the account operations on one database.
type Service struct {
	DB *gorm.DB
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (s *Service) now() time.Time { return defaults.Now(s.Now) }

// Create validates and stores a new account and writes an
// "account.create" audit entry with actor as the actor, in one transaction.
func (s *Service) Create(ctx context.Context, in NewAccount, actor string) (store.Account, error) {
	return Create(ctx, s.DB, in, actor, s.now())
}

// Create is Service.Create on db at now (the CLI creates the first admin
// with it).
func Create(ctx context.Context, db *gorm.DB, in NewAccount, actor string, now time.Time) (store.Account, error) {
	in.Username = strings.TrimSpace(in.Username)
	in.Department = strings.TrimSpace(in.Department)
	in.DisplayName = strings.TrimSpace(in.DisplayName)
	if err := ValidateUsername(in.Username); err != nil {
		return store.Account{}, err
	}
	if !ValidRole(in.Role) {
		return store.Account{}, fmt.Errorf("role %q is not one of %s: %w", in.Role, strings.Join(store.Roles, ", "), ErrInvalidAccount)
	}
	if in.Role == store.RoleDepartmentHead && in.Department == "" {
		return store.Account{}, fmt.Errorf("a department head needs a department: %w", ErrInvalidAccount)
	}
	if utf8.RuneCountInString(in.DisplayName) > 128 || utf8.RuneCountInString(in.Department) > 128 {
		return store.Account{}, fmt.Errorf("display name and department have at most 128 characters: %w", ErrInvalidAccount)
	}
	hash, err := HashPassword(in.Password)
	if err != nil {
		return store.Account{}, err
	}
	a := store.Account{
		Username: in.Username, DisplayName: in.DisplayName, Role: in.Role, Department: in.Department,
		PasswordHash: hash, Locale: in.Locale, CreatedAt: now.UTC(), UpdatedAt: now.UTC(),
	}
	err = store.Tx(ctx, db, func(tx *gorm.DB) error {
		a.ID = 0
		if err := tx.Create(&a).Error; err != nil {
			return err
		}
		return store.WriteAudit(tx, actor, "account.create", fmt.Sprintf("account:%s", a.Username),
			map[string]any{"username": a.Username, "role": a.Role, "department": a.Department, "display_name": a.DisplayName}, now)
	})
	if store.IsDuplicate(err) {
		return store.Account{}, fmt.Errorf("username %q: %w", in.Username, ErrAccountExists)
	}
	if err != nil {
		return store.Account{}, fmt.Errorf("create account: %w", err)
	}
	return a, nil
}

// List lists every account by username.
func (s *Service) List(ctx context.Context) ([]store.Account, error) {
	var as []store.Account
	if err := s.DB.WithContext(ctx).Order("username").Find(&as).Error; err != nil {
		return nil, fmt.Errorf("load accounts: %w", err)
	}
	return as, nil
}

// Get loads an account; ErrNotFound when there is none.
func (s *Service) Get(ctx context.Context, id uint64) (store.Account, error) {
	var a store.Account
	err := s.DB.WithContext(ctx).Take(&a, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return a, fmt.Errorf("account %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return a, fmt.Errorf("load account %d: %w", id, err)
	}
	return a, nil
}

// Change is what an admin sets on an account (validated by the caller's
// form, whose field errors it localizes).
type Change struct {
	DisplayName string
	Role        string
	Department  string
	Disabled    bool
	// PasswordHash is a new password's hash (HashPassword); "" keeps it.
	PasswordHash string
}

// Update stores ch on a as actor. A disabled account, a new password, a new
// role or department signs the account out everywhere but keepSession
// (the admin's own sign-in when they edit themselves; 0 keeps none).
func (s *Service) Update(ctx context.Context, a store.Account, ch Change, actor string, keepSession uint64) error {
	now := s.now()
	err := store.Tx(ctx, s.DB, func(tx *gorm.DB) error {
		upd := map[string]any{"display_name": ch.DisplayName, "role": ch.Role, "department": ch.Department, "disabled": ch.Disabled, "updated_at": now}
		if ch.PasswordHash != "" {
			upd["password_hash"] = ch.PasswordHash
		}
		if err := tx.Model(&store.Account{}).Where("id = ?", a.ID).Updates(upd).Error; err != nil {
			return err
		}
		if ch.Disabled || ch.PasswordHash != "" || ch.Role != a.Role || ch.Department != a.Department {
			q := tx.Where("account_id = ?", a.ID)
			if keepSession != 0 {
				q = q.Where("id <> ?", keepSession)
			}
			if err := q.Delete(&store.LoginSession{}).Error; err != nil {
				return err
			}
		}
		return store.WriteAudit(tx, actor, "account.update", "account:"+a.Username, map[string]any{
			"display_name": ch.DisplayName, "role": ch.Role, "department": ch.Department, "disabled": ch.Disabled, "password_reset": ch.PasswordHash != ""}, now)
	})
	if err != nil {
		return fmt.Errorf("update account %s: %w", a.Username, err)
	}
	return nil
}

// ChangePassword sets a's password to the hash and signs out every other
// browser signed in as a (all but keepSession).
func (s *Service) ChangePassword(ctx context.Context, a store.Account, hash string, keepSession uint64) error {
	now := s.now()
	err := store.Tx(ctx, s.DB, func(tx *gorm.DB) error {
		if err := tx.Model(&store.Account{}).Where("id = ?", a.ID).Updates(map[string]any{"password_hash": hash, "updated_at": now}).Error; err != nil {
			return err
		}
		if err := tx.Where("account_id = ? AND id <> ?", a.ID, keepSession).Delete(&store.LoginSession{}).Error; err != nil {
			return err
		}
		return store.WriteAudit(tx, a.Username, "account.password", "account:"+a.Username, nil, now)
	})
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	return nil
}

// Login is a successful sign-in: the cookie's secret (only its hash is
// stored), the account and its login session.
type Login struct {
	Token   string
	Account store.Account
	Session store.LoginSession
}

// Attempt is one sign-in try.
type Attempt struct {
	Username  string // lower-cased by the caller
	Password  string
	IP        string
	UserAgent string
}

// SignIn checks the password under the rate limit, records the attempt,
// and on success stores a login session (pruning old sessions and
// attempts) with its audit row. It returns ErrLocked or ErrBadLogin when
// the attempt is refused.
func (s *Service) SignIn(ctx context.Context, at Attempt) (Login, error) {
	db := s.DB.WithContext(ctx)
	now := s.now()
	since := now.Add(-loginWindow)
	var userFails, ipFails int64
	if err := db.Model(&store.LoginAttempt{}).Where("username = ? AND success = ? AND at > ?", at.Username, false, since).Count(&userFails).Error; err != nil {
		return Login{}, fmt.Errorf("count failed sign-ins: %w", err)
	}
	if err := db.Model(&store.LoginAttempt{}).Where("ip = ? AND success = ? AND at > ?", at.IP, false, since).Count(&ipFails).Error; err != nil {
		return Login{}, fmt.Errorf("count failed sign-ins: %w", err)
	}
	if userFails >= maxUserFailures || ipFails >= maxIPFailures {
		return Login{}, ErrLocked
	}
	var a store.Account
	if err := db.Where("username = ?", at.Username).Limit(1).Find(&a).Error; err != nil {
		return Login{}, fmt.Errorf("load account: %w", err)
	}
	ok := false
	if a.ID == 0 || a.Disabled {
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(at.Password))
	} else {
		ok = PasswordMatches(a, at.Password)
	}
	if err := store.Retry(ctx, func() error {
		return db.Create(&store.LoginAttempt{Username: at.Username, IP: at.IP, Success: ok, At: now}).Error
	}); err != nil {
		return Login{}, fmt.Errorf("record sign-in: %w", err)
	}
	if !ok {
		return Login{}, ErrBadLogin
	}
	tok := RandomToken(32)
	ls := store.LoginSession{
		TokenHash: tokenHash(tok), AccountID: a.ID, CSRFToken: RandomToken(32), IP: at.IP,
		UserAgent: at.UserAgent, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(SessionLifetime),
	}
	err := store.Tx(ctx, s.DB, func(tx *gorm.DB) error {
		ls.ID = 0
		if err := tx.Create(&ls).Error; err != nil {
			return err
		}
		if err := tx.Model(&store.Account{}).Where("id = ?", a.ID).Update("last_login_at", now).Error; err != nil {
			return err
		}
		// Old sessions and attempts are pruned on the way.
		if err := tx.Where("expires_at < ?", now.Add(-24*time.Hour)).Delete(&store.LoginSession{}).Error; err != nil {
			return err
		}
		if err := tx.Where("at < ?", now.Add(-7*24*time.Hour)).Delete(&store.LoginAttempt{}).Error; err != nil {
			return err
		}
		return store.WriteAudit(tx, a.Username, "account.login", "account:"+a.Username, map[string]any{"ip": at.IP}, now)
	})
	if err != nil {
		return Login{}, fmt.Errorf("store login session: %w", err)
	}
	return Login{Token: tok, Account: a, Session: ls}, nil
}

// Resolve finds the live login session of token (a cookie's value) and its
// enabled account; ok is false when there is none. A session in use is
// marked seen at most once a minute.
func (s *Service) Resolve(ctx context.Context, token string) (a store.Account, ls store.LoginSession, ok bool, err error) {
	db := s.DB.WithContext(ctx)
	now := s.now()
	if err := db.Where("token_hash = ?", tokenHash(token)).Limit(1).Find(&ls).Error; err != nil {
		return a, ls, false, fmt.Errorf("load login session: %w", err)
	}
	if ls.ID == 0 || !now.Before(ls.ExpiresAt) || now.Sub(ls.LastSeenAt) > SessionIdle {
		return a, ls, false, nil
	}
	if err := db.Limit(1).Find(&a, ls.AccountID).Error; err != nil || a.ID == 0 || a.Disabled {
		return a, ls, false, nil
	}
	if now.Sub(ls.LastSeenAt) > seenEvery {
		db.Model(&store.LoginSession{}).Where("id = ?", ls.ID).Update("last_seen_at", now)
	}
	return a, ls, true, nil
}

// SignOut ends one login session.
func (s *Service) SignOut(ctx context.Context, sessionID uint64) error {
	if err := s.DB.WithContext(ctx).Delete(&store.LoginSession{}, sessionID).Error; err != nil {
		return fmt.Errorf("sign out: %w", err)
	}
	return nil
}

// RandomToken is n random bytes, base64url-encoded.
func RandomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func tokenHash(tok string) string {
	s := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(s[:])
}

// StillSignedIn reports whether the login session is live: not expired,
// and its account not disabled.
func (s *Service) StillSignedIn(ctx context.Context, sessionID uint64) bool {
	var n int64
	err := s.DB.WithContext(ctx).Table("console_login_sessions").
		Joins("JOIN console_accounts ON console_accounts.id = console_login_sessions.account_id").
		Where("console_login_sessions.id = ? AND console_login_sessions.expires_at > ? AND console_accounts.disabled = ?", sessionID, s.now(), false).
		Count(&n).Error
	return err == nil && n > 0
}

// Coordinators lists the usernames of the enabled coordinators (who may
// own a course).
func (s *Service) Coordinators(ctx context.Context) ([]string, error) {
	var names []string
	err := s.DB.WithContext(ctx).Model(&store.Account{}).Where("role = ? AND disabled = ?", store.RoleCoordinator, false).Order("username").Pluck("username", &names).Error
	if err != nil {
		return nil, fmt.Errorf("list coordinators: %w", err)
	}
	return names, nil
}
