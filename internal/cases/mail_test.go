package cases_test

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/linli/linli/internal/cases"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
	"github.com/linli/linli/internal/platform/i18n"
	"github.com/linli/linli/internal/platform/jobs"
	"github.com/linli/linli/internal/platform/notify"
	"github.com/linli/linli/internal/platform/workcal"
)

// syncBuffer collects a process's output while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// smtpServer starts Python's own SMTP server, which prints every message
// it receives; the test is skipped where Python has no smtpd module.
func smtpServer(t *testing.T) (addr string, out *syncBuffer) {
	t.Helper()
	if err := exec.Command("python3", "-c", "import smtpd").Run(); err != nil {
		t.Skip("no python3 smtpd module for a real SMTP server")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr = l.Addr().String()
	l.Close()
	out = &syncBuffer{}
	cmd := exec.Command("python3", "-W", "ignore", "-u", "-m", "smtpd", "-n", "-c", "DebuggingServer", addr)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for i := 0; i < 100; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr, out
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the SMTP server did not start: %s", out.String())
	return "", nil
}

// A reporter who left an e-mail address hears that the case was accepted;
// the address never sits in the jobs table in clear.
func TestReporterGetsEmail(t *testing.T) {
	addr, out := smtpServer(t)
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		mailer, err := notify.NewMailer("smtp://"+addr, "linli@example.cn")
		if err != nil {
			t.Fatal(err)
		}
		f.svc.Mailer = mailer
		p := orb.Point{121.445, 37.465}
		rc, err := f.svc.Report(context.Background(), cases.NewCase{Category: "C0201", Description: "路灯不亮", Point: &p,
			Email: "resident@example.cn"})
		if err != nil {
			t.Fatal(err)
		}
		f.act(t, "staff", rc.Number, cases.Request{Action: cases.ActAccept})
		var payloads string
		d.Q(context.Background()).QueryRowContext(context.Background(), "SELECT COALESCE(MAX(payload), '') FROM jobs WHERE kind = 'case.email'").Scan(&payloads)
		if payloads == "" || strings.Contains(payloads, "resident@") {
			t.Fatalf("the mail job: %q", payloads)
		}
		cat, err := i18n.Load(i18n.Platform, cases.Locales, workcal.Locales)
		if err != nil {
			t.Fatal(err)
		}
		before := len(out.String()) // both engines number their first case alike
		r := jobs.NewRunner(d, "mail", time.Now, slog.Default())
		f.svc.MailJobs(r, cat)
		if _, err := r.RunDue(context.Background()); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for !strings.Contains(out.String()[before:], rc.Number) {
			if time.Now().After(deadline) {
				t.Fatalf("no mail about %s reached the server; it printed:\n%s", rc.Number, out.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
		if got := out.String()[before:]; !strings.Contains(got, "To: resident@example.cn") {
			t.Fatalf("mail: %s", got)
		}
	})
}
