package agent

import (
	"bufio"
	"os"
	"sort"
	"strconv"
	"strings"
)

// listeningPorts reads the TCP ports something listens on in this network
// namespace, except the agent's own relays.
func listeningPorts(own map[int]string) ([]int, error) {
	seen := map[int]bool{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		if err := scanListening(f, seen); err != nil && !os.IsNotExist(err) {
			return nil, err
		}
	}
	for p := range own {
		delete(seen, p)
	}
	ports := make([]int, 0, len(seen))
	for p := range seen {
		ports = append(ports, p)
	}
	sort.Ints(ports)
	return ports, nil
}

// scanListening adds the local ports of sockets in state LISTEN (0A).
func scanListening(path string, seen map[int]bool) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || fields[3] != "0A" {
			continue
		}
		_, portHex, ok := strings.Cut(fields[1], ":")
		if !ok {
			continue
		}
		if port, err := strconv.ParseUint(portHex, 16, 16); err == nil {
			seen[int(port)] = true
		}
	}
	return sc.Err()
}
