package httpx

import (
	"net/http/httputil"
	"sync"
)

// ProxyBuffers lends a reverse proxy its copy buffers (32 KiB each):
// without them every proxied response allocates one, which at thousands
// of requests a second is most of what the garbage collector does.
type ProxyBuffers struct{ pool sync.Pool }

var _ httputil.BufferPool = (*ProxyBuffers)(nil)

// Get implements httputil.BufferPool.
func (p *ProxyBuffers) Get() []byte {
	if b, ok := p.pool.Get().(*[]byte); ok {
		return *b
	}
	return make([]byte, 32<<10)
}

// Put implements httputil.BufferPool.
func (p *ProxyBuffers) Put(b []byte) { p.pool.Put(&b) }
