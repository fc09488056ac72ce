package tunnel

import (
	"fmt"
	"strings"
)

// ChooseForListen resolves --tunnel for `sail listen`, which is useful even
// without a public URL (the emulator, curl). auto picks public when
// --public-url is given, else ngrok when an authtoken is set, else local; note
// explains an auto choice in one line ("" for an explicit one).
func ChooseForListen(provider string, hasAuthtoken bool, publicURL string) (resolved, note string, err error) {
	switch normalize(provider) {
	case Auto:
		switch {
		case publicURL != "":
			// A URL the user named is what they meant, whatever else is set.
			if _, err := ValidatePublicURL(publicURL); err != nil {
				return "", "", err
			}
			return Public, "using --public-url", nil
		case hasAuthtoken:
			return Ngrok, "using ngrok because NGROK_AUTHTOKEN is set", nil
		default:
			return Local, "listening on this machine only: set NGROK_AUTHTOKEN or pass --public-url to receive webhooks from Sail", nil
		}
	case Local:
		return Local, "", nil
	case Public:
		if err := needPublicURL(publicURL); err != nil {
			return "", "", err
		}
		return Public, "", nil
	case Ngrok:
		if !hasAuthtoken {
			return "", "", missingAuthtoken()
		}
		return Ngrok, "", nil
	default:
		return "", "", unknownProvider(provider)
	}
}

// ChooseForRun resolves --tunnel for `sail run --webhook`, where the API
// itself must reach the URL. auto picks public when --public-url is given,
// else local for a loopback API (the emulator), else ngrok when an
// authtoken is set; otherwise it is a configuration error saying what
// to set. An explicit local tunnel with a remote API is refused: Sail cannot
// reach this machine's loopback address.
func ChooseForRun(provider string, apiIsLoopback, hasAuthtoken bool, publicURL string) (string, error) {
	switch normalize(provider) {
	case Auto:
		switch {
		case publicURL != "":
			// A URL the user named is what they meant, even with a loopback
			// API or an ngrok authtoken at hand.
			if _, err := ValidatePublicURL(publicURL); err != nil {
				return "", err
			}
			return Public, nil
		case apiIsLoopback:
			return Local, nil
		case hasAuthtoken:
			return Ngrok, nil
		default:
			return "", &Error{
				Kind: KindConfig,
				Msg:  "no public URL for the webhook: Sail must reach this machine from the internet; " + hintNoPublicURL,
				Hint: hintNoPublicURL + "; or use the local emulator (--emulator) with --tunnel local",
			}
		}
	case Local:
		if !apiIsLoopback {
			return "", &Error{
				Kind: KindConfig,
				Msg:  "--tunnel local cannot work with a remote API: Sail cannot reach 127.0.0.1 on this machine",
				Hint: hintNoPublicURL + ", or use the local emulator (--emulator)",
			}
		}
		return Local, nil
	case Public:
		if err := needPublicURL(publicURL); err != nil {
			return "", err
		}
		return Public, nil
	case Ngrok:
		if !hasAuthtoken {
			return "", missingAuthtoken()
		}
		return Ngrok, nil
	default:
		return "", unknownProvider(provider)
	}
}

func normalize(p string) string {
	p = strings.ToLower(strings.TrimSpace(p))
	if p == "" {
		return Auto
	}
	return p
}

func needPublicURL(publicURL string) error {
	if publicURL == "" {
		return &Error{
			Kind: KindConfig,
			Msg:  "--tunnel public needs --public-url: the URL of your own tunnel or reverse proxy",
			Hint: "pass --public-url https://… that forwards to --addr, or use --tunnel ngrok with NGROK_AUTHTOKEN",
		}
	}
	_, err := ValidatePublicURL(publicURL)
	return err
}

func missingAuthtoken() *Error {
	return &Error{
		Kind: KindConfig,
		Msg:  "--tunnel ngrok needs an ngrok authtoken: NGROK_AUTHTOKEN is not set",
		Hint: fmt.Sprintf("set NGROK_AUTHTOKEN (%s) or pass --public-url URL of your own tunnel", authtokenURL),
	}
}
