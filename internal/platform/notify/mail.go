package notify

import (
	"context"
	"fmt"
	"mime"
	"net"
	"net/smtp"
	"net/url"
	"strings"
	"time"
)

// Mailer sends e-mail through an SMTP relay given as
// smtp://user:password@host:port (STARTTLS when the server offers it).
type Mailer struct {
	addr, host string
	auth       smtp.Auth
	from       string
}

// NewMailer parses an SMTP URL; an empty URL means no e-mail.
func NewMailer(rawURL, from string) (*Mailer, error) {
	if rawURL == "" {
		return nil, nil
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "smtp" || u.Hostname() == "" {
		return nil, fmt.Errorf("--smtp %q: want smtp://user:password@host:port", redactURL(rawURL))
	}
	if !strings.Contains(from, "@") {
		return nil, fmt.Errorf("--smtp-from %q: want an e-mail address", from)
	}
	port := u.Port()
	if port == "" {
		port = "25"
	}
	m := &Mailer{addr: net.JoinHostPort(u.Hostname(), port), host: u.Hostname(), from: from}
	if u.User != nil {
		pw, _ := u.User.Password()
		m.auth = smtp.PlainAuth("", u.User.Username(), pw, u.Hostname())
	}
	return m, nil
}

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	u.User = url.User(u.User.Username())
	return u.String()
}

// Send delivers one plain-text message. Subjects may be Chinese: they are
// encoded as RFC 2047 words.
func (m *Mailer) Send(ctx context.Context, to, subject, body, messageID string) error {
	if m == nil {
		return nil
	}
	if strings.ContainsAny(to, "\r\n") || !strings.Contains(to, "@") {
		return fmt.Errorf("notify: bad recipient")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s@linli>\r\n",
		m.from, to, mime.BEncoding.Encode("utf-8", subject), time.Now().Format(time.RFC1123Z), messageID)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	b.WriteString(strings.ReplaceAll(body, "\n", "\r\n"))
	done := make(chan error, 1)
	go func() { done <- smtp.SendMail(m.addr, m.auth, m.from, []string{to}, []byte(b.String())) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
