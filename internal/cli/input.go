package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/sailresearch/sail/internal/exitcode"
	"github.com/sailresearch/sail/internal/sailspec"
	"github.com/sailresearch/sail/internal/secret"
)

// maxPromptBytes bounds a prompt read from stdin or a file.
const maxPromptBytes = 8 << 20

// readPrompt resolves a PROMPT argument: "-" reads stdin, "@path" reads a
// file, anything else is the prompt itself.
func readPrompt(stdin io.Reader, arg string) (string, error) {
	var data []byte
	var err error
	switch {
	case arg == "-":
		data, err = io.ReadAll(io.LimitReader(stdin, maxPromptBytes+1))
		if err != nil {
			return "", fmt.Errorf("read prompt from stdin: %w", err)
		}
	case strings.HasPrefix(arg, "@") && len(arg) > 1:
		f, oerr := os.Open(arg[1:])
		if oerr != nil {
			return "", exitcode.WithHint(exitcode.Usage, fmt.Errorf("read prompt: %w", oerr), "pass the prompt itself, - for stdin, or @FILE for an existing file")
		}
		defer f.Close()
		data, err = io.ReadAll(io.LimitReader(f, maxPromptBytes+1))
		if err != nil {
			return "", fmt.Errorf("read prompt from %s: %w", arg[1:], err)
		}
	default:
		data = []byte(arg)
	}
	return checkPrompt(data)
}

// checkPrompt bounds a prompt and refuses an empty one.
func checkPrompt(data []byte) (string, error) {
	if len(data) > maxPromptBytes {
		return "", exitcode.New(exitcode.Usage, "prompt is larger than %d MiB", maxPromptBytes>>20)
	}
	p := strings.TrimRight(string(data), "\r\n")
	if strings.TrimSpace(p) == "" {
		return "", exitcode.WithHint(exitcode.Usage, errors.New("the prompt is empty"), `pass a prompt: sail run --webhook "What is 2+2?"`)
	}
	return p, nil
}

// promptFromArgs makes one prompt of the positional arguments: one is read
// as readPrompt does; several are words joined with spaces, as echo joins
// them, so an unquoted sentence is one prompt and never a batch of
// separately billed ones.
func promptFromArgs(stdin io.Reader, args []string) (string, error) {
	if len(args) == 1 {
		return readPrompt(stdin, args[0])
	}
	if a := args[0]; a == "-" || strings.HasPrefix(a, "@") && len(a) > 1 {
		return "", exitcode.WithHint(exitcode.Usage, fmt.Errorf("%s reads the whole prompt, but %d more arguments follow it", a, len(args)-1),
			"quote the prompt, or for several prompts put them in a file and pass -f FILE")
	}
	return checkPrompt([]byte(strings.Join(args, " ")))
}

// Metadata limits: the project's reading of Sail's, written down once in
// sailspec.
const (
	maxMetadataKeys  = sailspec.MetadataMaxKeys
	maxMetadataKey   = sailspec.MetadataMaxKeyLen
	maxMetadataValue = sailspec.MetadataMaxValueLen
)

// reservedMetadata are the keys sail itself sets.
var reservedMetadata = map[string]bool{sailspec.MetaCompletionWebhook: true, sailspec.MetaWebhookToken: true}

// ParseMetadata turns repeated --metadata k=v flags into a map, enforcing
// Sail's limits; reserve counts keys sail will add itself.
func ParseMetadata(pairs []string, reserve int) (map[string]string, error) {
	out := map[string]string{}
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			return nil, exitcode.New(exitcode.Usage, "--metadata %q: want key=value", p)
		}
		k = strings.TrimSpace(k)
		switch {
		case k == "":
			return nil, exitcode.New(exitcode.Usage, "--metadata %q: the key is empty", p)
		case len(k) > maxMetadataKey:
			return nil, exitcode.New(exitcode.Usage, "--metadata key %q is longer than %d characters", k, maxMetadataKey)
		case len(v) > maxMetadataValue:
			return nil, exitcode.New(exitcode.Usage, "--metadata %s: the value is longer than %d characters", k, maxMetadataValue)
		case reservedMetadata[k]:
			return nil, exitcode.WithHint(exitcode.Usage, fmt.Errorf("--metadata %s is set by sail itself", k), "use --webhook-url/--webhook-token, or --token with sail run")
		}
		if _, dup := out[k]; dup {
			return nil, exitcode.New(exitcode.Usage, "--metadata %s given twice", k)
		}
		out[k] = v
	}
	if len(out)+reserve > maxMetadataKeys {
		return nil, exitcode.New(exitcode.Usage, "too many --metadata keys: %d, and Sail allows %d in all (sail uses %d)", len(out), maxMetadataKeys, reserve)
	}
	return out, nil
}

// checkToken refuses a webhook token that is too short to be masked
// wherever it appears (secret.MinLen: masking a short string in
// every payload and header would mangle ordinary text, and not masking it
// would leak it), or that a bearer header cannot carry.
func checkToken(flag, tok string) error {
	if len(tok) < secret.MinLen {
		return exitcode.WithHint(exitcode.Usage,
			fmt.Errorf("%s is %d characters; webhook tokens need at least %d so sail can mask them wherever they appear", flag, len(tok), secret.MinLen),
			"use --token auto for a random 256-bit token, or a longer value")
	}
	if strings.ContainsFunc(tok, func(r rune) bool { return r <= ' ' || r == 0x7f || r >= utf8.RuneSelf }) {
		return exitcode.WithHint(exitcode.Usage, fmt.Errorf("%s holds spaces, control or non-ASCII characters, which an Authorization header cannot carry", flag),
			"use --token auto for a random token")
	}
	return nil
}
