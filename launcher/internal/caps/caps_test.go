package caps

import (
	"slices"
	"testing"
)

func TestCanonical(t *testing.T) {
	for in, want := range map[string]string{"net_admin": "CAP_NET_ADMIN", "CAP_SYS_ADMIN": "CAP_SYS_ADMIN", " chown ": "CAP_CHOWN", "all": "ALL"} {
		if got, err := Canonical(in); err != nil || got != want {
			t.Errorf("Canonical(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "CAP_", "sys_admn", "CAP_ALL"} {
		if _, err := Canonical(bad); err == nil {
			t.Errorf("Canonical(%q) accepted", bad)
		}
	}
}

func TestResolveFollowsDocker(t *testing.T) {
	cases := []struct {
		add, drop, want []string
	}{
		{nil, nil, Default},
		{[]string{"CAP_NET_ADMIN"}, []string{"CAP_CHOWN"}, append(slices.DeleteFunc(slices.Clone(Default), func(c string) bool { return c == "CAP_CHOWN" }), "CAP_NET_ADMIN")},
		{[]string{"CAP_KILL"}, []string{"ALL"}, []string{"CAP_KILL"}},
		{[]string{"ALL"}, []string{"CAP_SYS_ADMIN"}, slices.DeleteFunc(All(), func(c string) bool { return c == "CAP_SYS_ADMIN" })},
		{nil, []string{"ALL"}, nil},
	}
	for _, c := range cases {
		got := Resolve(Default, c.add, c.drop)
		want := Names(Mask(c.want)) // number order
		if !slices.Equal(got, want) {
			t.Errorf("Resolve(add %v, drop %v) = %v, want %v", c.add, c.drop, got, want)
		}
	}
}

func TestMaskRoundTrip(t *testing.T) {
	if m := Mask(Default); len(Names(m)) != 14 || m != 0xa80425fb {
		t.Errorf("default mask %#x (%d caps); docker's is 0xa80425fb", m, len(Names(m)))
	}
	if m := Mask(All()); m != 1<<len(names)-1 {
		t.Errorf("all mask %#x", m)
	}
}
