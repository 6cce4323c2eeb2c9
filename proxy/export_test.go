package proxy

// reloadForTest reads the registry now, as the next poll would.
func (r *Routes) reloadForTest() { r.reload() }
