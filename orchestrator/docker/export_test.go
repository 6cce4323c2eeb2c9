package docker

import "context"

// RelayImage builds (or finds) the relay image, for the external tests.
func (e *Engine) RelayImage(ctx context.Context) (string, error) { return e.relayImage(ctx) }

// RelayFiles is relayFiles, for the external tests.
var RelayFiles = relayFiles
