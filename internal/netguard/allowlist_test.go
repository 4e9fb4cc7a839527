package netguard

import (
	"net/netip"
	"strings"
	"testing"
)

func TestParseAllowListErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, wantErr string }{
		{"10.0.0.0/33", "invalid CIDR"},
		{"10.0.0/8", "invalid CIDR"},
		{"fe80::1%eth0", "zones"},
		{"http://example.com", "URL"},
		{"example.com:8080", "invalid character"},
		{"*.example.com", "invalid character"},
		{"-bad.example", "invalid host name label"},
		{"a..b", "invalid host name label"},
		{"2130706433", "numeric host name"},
		{"0x7f.1", "numeric host name"},
		{"127.1", "numeric host name"},
		{strings.Repeat("a", 64) + ".com", "invalid host name label"},
		{"ok.example, bad host", "\"bad host\""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			_, err := ParseAllowList(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("ParseAllowList(%q) error = %v, want containing %q", tt.in, err, tt.wantErr)
			}
		})
	}
}

func TestAllowListAllows(t *testing.T) {
	t.Parallel()
	a, err := ParseAllowList(" 127.0.0.0/8, ::1 ,10.1.2.3,[fd00::1], Svc.Internal., ::ffff:192.168.0.0/112,,")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		host, ip string
		want     bool
	}{
		{"", "127.0.0.1", true},
		{"", "127.9.9.9", true},
		{"", "::ffff:127.0.0.1", true},
		{"", "::1", true},
		{"", "10.1.2.3", true},
		{"", "10.1.2.4", false},
		{"", "fd00::1", true},
		{"", "192.168.3.4", true},
		{"svc.internal", "10.9.9.9", true},
		{"SVC.internal.", "10.9.9.9", true},
		{"other.internal", "10.9.9.9", false},
		{"", "169.254.169.254", false},
	}
	for _, tt := range tests {
		t.Run(tt.host+"/"+tt.ip, func(t *testing.T) {
			t.Parallel()
			if got := a.Allows(tt.host, netip.MustParseAddr(tt.ip)); got != tt.want {
				t.Errorf("Allows(%q, %s) = %v, want %v", tt.host, tt.ip, got, tt.want)
			}
		})
	}
}

func TestEmptyAllowList(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", " ", ",, ,"} {
		a, err := ParseAllowList(s)
		if err != nil {
			t.Fatalf("ParseAllowList(%q): %v", s, err)
		}
		if a.Allows("localhost", netip.MustParseAddr("127.0.0.1")) {
			t.Errorf("empty list %q allows loopback", s)
		}
	}
	if (AllowList{}).Allows("", netip.MustParseAddr("127.0.0.1")) {
		t.Error("zero AllowList allows loopback")
	}
}

func TestNumericHost(t *testing.T) {
	t.Parallel()
	for h, want := range map[string]bool{
		"2130706433": true, "0x7f.1": true, "127.1": true, "0177.0.0.1": true,
		"0x7f000001": true, "1.2.3.4.": true, "example.com": false, "a1.b2": false,
		"0xzz": false, "localhost": false, "123.example": false,
	} {
		if got := numericHost(h); got != want {
			t.Errorf("numericHost(%q) = %v, want %v", h, got, want)
		}
	}
}
