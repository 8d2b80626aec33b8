package pipeline

import (
	"context"

	"hubtriage/notify"
	"hubtriage/store/scratch"
)

// DryRun returns opt changed into a dry run's: the same pipeline with two
// parts swapped. The store becomes a scratch layer over it (decisions are
// made from the real state, later findings of the run see what earlier
// ones would have done, and nothing is written to the real store), and
// every channel a sender that accepts everything and sends nothing. The
// sink is kept: the caller decides where a dry run's correlated findings
// go (a file, or nowhere).
func DryRun(opt Options) Options {
	opt.Store = scratch.New(opt.Store, opt.Now)
	rules := make([]Rule, len(opt.Rules))
	for i, r := range opt.Rules {
		r.Channels = append([]notify.Channel(nil), r.Channels...)
		for j, ch := range r.Channels {
			r.Channels[j] = Discard(ch.Name())
		}
		rules[i] = r
	}
	opt.Rules = rules
	return opt
}

// Discard is the dry run's sender: a channel named name that accepts every
// notification and sends nothing.
func Discard(name string) notify.Channel { return discard(name) }

type discard string

func (d discard) Name() string { return string(d) }

func (discard) Notify(context.Context, notify.Notification) (bool, error) { return false, nil }
