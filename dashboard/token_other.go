//go:build !unix

package dashboard

// Without O_NOFOLLOW, the token file is opened as it is.
const noFollow = 0

func isLoop(error) bool { return false }
