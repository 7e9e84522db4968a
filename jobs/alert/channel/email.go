package channel

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"os"
	"strings"
	"time"
)

// EmailOptions configure an [Email] sender. The password is never part of
// the configuration: PasswordEnv names the environment variable holding
// it.
type EmailOptions struct {
	// Addr is the SMTP server, "host:port". Required.
	Addr string
	// From is the sender, an RFC 5322 address ("adlake <adlake@example.com>"
	// or a bare address). Required.
	From string
	// To lists the recipients; at least one. Each is an RFC 5322 address.
	To []string
	// Username turns on PLAIN authentication (only over TLS, or to a
	// server on localhost); empty means none.
	Username string
	// PasswordEnv names the environment variable holding Username's
	// password; required with Username. It is read once, by NewEmail.
	PasswordEnv string
	// TLS configures STARTTLS, used whenever the server offers it; nil
	// means the system roots and the host of Addr as server name.
	TLS *tls.Config
	// Timeout bounds one Send (dial to QUIT); 0 means 30 s. The context's
	// deadline applies as well.
	Timeout time.Duration
}

// Email sends each message as one plain-text email (UTF-8, quoted-
// printable) to every recipient in a single SMTP transaction. Headers:
// From, To, Subject ([Message.Subject], RFC 2047 encoded when not ASCII),
// Date (sending time), a unique Message-ID, References (shared by the
// messages of one [Message.Key], so mail clients thread firing and
// resolved), MIME headers and X-Adlake-Alert-Key, X-Adlake-Severity,
// X-Adlake-State.
type Email struct {
	addr, host string
	from       *mail.Address
	to         []*mail.Address
	auth       smtp.Auth
	tls        *tls.Config
	timeout    time.Duration
}

var _ Sender = (*Email)(nil)

// NewEmail checks opts and returns an Email sender; it does not contact the
// server. It fails when Username is set and the variable PasswordEnv is
// unset or empty.
func NewEmail(opts EmailOptions) (*Email, error) {
	host, _, err := net.SplitHostPort(opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("email: SMTP address %q is not host:port: %w", opts.Addr, err)
	}
	from, err := mail.ParseAddress(opts.From)
	if err != nil {
		return nil, fmt.Errorf("email: sender %q: %w", opts.From, err)
	}
	if len(opts.To) == 0 {
		return nil, errors.New("email: no recipients")
	}
	e := &Email{addr: opts.Addr, host: host, from: from, tls: opts.TLS, timeout: opts.Timeout}
	for _, s := range opts.To {
		a, err := mail.ParseAddress(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("email: recipient %q: %w", s, err)
		}
		e.to = append(e.to, a)
	}
	if opts.Username != "" {
		if opts.PasswordEnv == "" {
			return nil, fmt.Errorf("email: SMTP user %q but no password_env naming the variable with the password", opts.Username)
		}
		pw := os.Getenv(opts.PasswordEnv)
		if pw == "" {
			return nil, fmt.Errorf("email: SMTP password variable %s is unset or empty", opts.PasswordEnv)
		}
		e.auth = smtp.PlainAuth("", opts.Username, pw, host)
	}
	if e.tls == nil {
		e.tls = &tls.Config{ServerName: host}
	}
	if e.timeout <= 0 {
		e.timeout = 30 * time.Second
	}
	return e, nil
}

// Send delivers m in one SMTP session: EHLO, STARTTLS when offered, AUTH
// when configured, MAIL, RCPT for each recipient, DATA, QUIT. Any
// recipient refused fails the whole message (nothing is sent).
func (e *Email) Send(ctx context.Context, m Message) error {
	if err := m.Validate(); err != nil {
		return fmt.Errorf("email via %s: %w", e.addr, err)
	}
	msg, err := e.compose(m, time.Now())
	if err != nil {
		return fmt.Errorf("email via %s: compose: %w", e.addr, err)
	}
	if err := e.deliver(ctx, msg); err != nil {
		return fmt.Errorf("email %s via %s: %w", m.Key, e.addr, err)
	}
	return nil
}

func (e *Email) deliver(ctx context.Context, msg []byte) (err error) {
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", e.addr)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	// The session ends with the context: closing the connection unblocks
	// whatever command is waiting for the server.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	defer func() {
		if err != nil && ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", err, ctx.Err())
		}
	}()
	c, err := smtp.NewClient(conn, e.host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("greeting: %w", err)
	}
	defer c.Close()
	if err := c.Hello(helloName()); err != nil {
		return fmt.Errorf("EHLO: %w", err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(e.tls); err != nil {
			return fmt.Errorf("STARTTLS: %w", err)
		}
	}
	if e.auth != nil {
		if ok, _ := c.Extension("AUTH"); !ok {
			return errors.New("AUTH: the server offers no authentication")
		}
		if err := c.Auth(e.auth); err != nil {
			return fmt.Errorf("AUTH: %w", err)
		}
	}
	if err := c.Mail(e.from.Address); err != nil {
		return fmt.Errorf("MAIL FROM %s: %w", e.from.Address, err)
	}
	for _, a := range e.to {
		if err := c.Rcpt(a.Address); err != nil {
			return fmt.Errorf("RCPT TO %s: %w", a.Address, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if err := c.Quit(); err != nil {
		return fmt.Errorf("QUIT: %w", err)
	}
	return nil
}

// helloName is the name sent with EHLO: this host's name when it looks
// like one, else "localhost".
func helloName() string {
	if h, err := os.Hostname(); err == nil && h != "" && !strings.ContainsAny(h, " \r\n") {
		return h
	}
	return "localhost"
}

// compose renders m as an RFC 5322 message with CRLF line ends.
func (e *Email) compose(m Message, now time.Time) ([]byte, error) {
	domain := "adlake.invalid"
	if i := strings.LastIndexByte(e.from.Address, '@'); i >= 0 {
		domain = e.from.Address[i+1:]
	}
	var rnd [12]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, fmt.Errorf("message id: %w", err)
	}
	keySum := sha256.Sum256([]byte(m.Key))
	to := make([]string, len(e.to))
	for i, a := range e.to {
		to[i] = a.String()
	}
	var b bytes.Buffer
	h := func(name, v string) { fmt.Fprintf(&b, "%s: %s\r\n", name, v) }
	h("From", e.from.String())
	h("To", strings.Join(to, ", "))
	h("Subject", mime.QEncoding.Encode("utf-8", m.Subject()))
	h("Date", now.Format(time.RFC1123Z))
	h("Message-ID", fmt.Sprintf("<%d.%s@%s>", now.UnixNano(), hex.EncodeToString(rnd[:]), domain))
	h("References", fmt.Sprintf("<alert-%s@%s>", hex.EncodeToString(keySum[:12]), domain))
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=utf-8")
	h("Content-Transfer-Encoding", "quoted-printable")
	h("Auto-Submitted", "auto-generated")
	for _, x := range [][2]string{{"X-Adlake-Alert-Key", m.Key}, {"X-Adlake-Severity", m.Severity}, {"X-Adlake-State", m.State}} {
		if x[1] != "" {
			h(x[0], mime.QEncoding.Encode("utf-8", oneLine(x[1])))
		}
	}
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(strings.ReplaceAll(m.Body(), "\n", "\r\n"))); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
