#!/bin/bash
# up.sh -- bring up a real single-node Kubernetes (v1.34) on this machine, all state under /tmp/kube-try (fixed path; the scripts and configs it writes name it).
#   etcd 3.6 (built from the Go module proxy; or Debian 3.4) -> kube-apiserver -> kube-controller-manager + kube-scheduler -> containerd 1.6 (Debian) + kubelet.
# Env: K8S_VERSION (default v1.34.12), ETCD_VERSION (default v3.6.8, built from the module proxy; ETCD_VERSION=debian uses Debian etcd-server 3.4.23), NODE=1 (start containerd+kubelet; NODE=0 = control plane only), SMOKE=1 (run smoke test).
set -euo pipefail
T0=$(date +%s.%N)
K=/tmp/kube-try; mkdir -p $K; cd $K
K8S_VERSION=${K8S_VERSION:-v1.34.12}; ETCD_VERSION=${ETCD_VERSION:-v3.6.8}; NODE=${NODE:-1}; SMOKE=${SMOKE:-1}
BIN=$K/bin; PKI=$K/pki; RUN=$K/run; LOG=$K/logs
mkdir -p $BIN $RUN $LOG $K/etc/cni $K/images
ts() { printf '[%6.1fs] %s\n' "$(echo "$(date +%s.%N) - $T0" | bc)" "$*"; }
waitfor() { # desc timeout cmd...
  local d=$1 t=$2; shift 2; local s=$(date +%s)
  until "$@" >/dev/null 2>&1; do (( $(date +%s) - s > t )) && { echo "TIMEOUT waiting for $d"; return 1; }; sleep 0.5; done; ts "$d ready"; }
start() { # name cmd... (runs in background, pid in run/NAME.pid, log in logs/NAME.log)
  local n=$1; shift
  if [ -f $RUN/$n.pid ] && kill -0 $(cat $RUN/$n.pid) 2>/dev/null; then ts "$n already running"; return; fi
  nohup "$@" > $LOG/$n.log 2>&1 & echo $! > $RUN/$n.pid; ts "started $n pid $!"; }

# ---- 0. support files (configs, helper scripts, image sources); written every run so this file is the whole recipe ----
mkdir -p $K/scripts && cat > $K/scripts/gen-gomod.sh <<'__KT_EOF__'
#!/bin/bash
# gen-gomod.sh K8S_VERSION  -> writes go.mod for a wrapper module that builds k8s.io/kubernetes cmds
set -euo pipefail
V=${1:-v1.34.12}; SV=v0.${V#v1.}
MOD=$(cat "$(cd /tmp && GOFLAGS=-mod=mod go mod download -json k8s.io/kubernetes@$V | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')")
{
  echo "module kubebuild"; echo; echo "go 1.25.0"; echo
  echo "require k8s.io/kubernetes $V"; echo
  echo "replace ("
  echo "$MOD" | sed -n '/^replace (/,/^)/p' | grep -o 'k8s.io/[a-z0-9-]* =>' | awk -v sv=$SV '{print "\t" $1 " => " $1 " " sv}'
  echo ")"
} > go.mod
cat > tools.go <<'EOT'
//go:build tools
package kubebuild
import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubelet"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
EOT
__KT_EOF__
mkdir -p $K/scripts && cat > $K/scripts/build-k8s.sh <<'__KT_EOF__'
#!/bin/bash
# build.sh OUTDIR -- builds k8s binaries sequentially, logs timings
set -euo pipefail
cd /tmp/kube-try/src/k8s
OUT=${1:-/tmp/kube-try/bin}; mkdir -p "$OUT"
V=$(awk '/^require k8s.io\/kubernetes/{print $3}' go.mod)
MIN=$(echo $V | cut -d. -f2)
LD="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  LD="$LD -X $p.gitVersion=$V -X $p.gitMajor=1 -X $p.gitMinor=$MIN -X $p.gitTreeState=clean -X $p.buildDate=2000-01-01T00:00:00Z"
done
for c in ${CMDS:-kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl}; do
  s=$(date +%s)
  nice -n 10 go build -ldflags "$LD" -o "$OUT/$c" k8s.io/kubernetes/cmd/$c
  echo "built $c in $(( $(date +%s) - s ))s size $(du -m "$OUT/$c" | cut -f1)MB"
done
__KT_EOF__
mkdir -p $K/scripts && cat > $K/scripts/pki.sh <<'__KT_EOF__'
#!/bin/bash
# pki.sh DIR NODENAME -- CA, apiserver serving cert, client certs, SA key pair, kubeconfigs
set -euo pipefail
D=$1; NODE=${2:-localhost}; mkdir -p "$D"; cd "$D"
[ -f ca.crt ] && { echo "pki exists"; exit 0; }
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 -subj "/CN=kt-ca" 2>/dev/null
cert() { # name CN O sans(optional) extendedKeyUsage
  local n=$1 cn=$2 o=$3 san=${4:-} eku=${5:-clientAuth}
  local subj="/CN=$cn"; [ -n "$o" ] && subj="/O=$o/CN=$cn"
  openssl req -newkey rsa:2048 -nodes -keyout $n.key -out $n.csr -subj "$subj" 2>/dev/null
  { echo "basicConstraints=CA:FALSE"; echo "keyUsage=critical,digitalSignature,keyEncipherment"; echo "extendedKeyUsage=$eku"; [ -n "$san" ] && echo "subjectAltName=$san"; } > $n.ext
  openssl x509 -req -in $n.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out $n.crt -days 3650 -extfile $n.ext 2>/dev/null
  rm -f $n.csr $n.ext
}
cert apiserver kube-apiserver "" "DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,IP:127.0.0.1,IP:10.96.0.1" serverAuth
cert admin kt-admin system:masters
cert controller-manager system:kube-controller-manager ""
cert scheduler system:kube-scheduler ""
cert kubelet-client system:node:$NODE system:nodes            # kubelet -> apiserver
cert kubelet-serving $NODE "" "DNS:$NODE,DNS:localhost,IP:127.0.0.1" serverAuth
cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters
openssl genrsa -out sa.key 2048 2>/dev/null; openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
kc() { # name cert
  cat > $1.kubeconfig <<EOK
apiVersion: v1
kind: Config
clusters:
- name: kt
  cluster: {server: "https://127.0.0.1:6443", certificate-authority: "$D/ca.crt"}
users:
- name: u
  user: {client-certificate: "$D/$2.crt", client-key: "$D/$2.key"}
contexts:
- name: kt
  context: {cluster: kt, user: u}
current-context: kt
EOK
}
kc admin admin; kc controller-manager controller-manager; kc scheduler scheduler; kc kubelet kubelet-client
echo "pki done"
__KT_EOF__
mkdir -p $K/scripts && cat > $K/scripts/mkimage.sh <<'__KT_EOF__'
#!/bin/bash
# mkimage.sh BINARY IMAGE_REF OUT_TAR ENTRYPOINT_PATH -- docker-archive with a single-file rootfs
set -euo pipefail
BIN=$1; REF=$2; OUT=$3; EP=${4:-/app}
W=$(mktemp -d); mkdir -p $W/root$(dirname $EP) $W/root/tmp $W/root/etc; cp $BIN $W/root$EP; chmod 755 $W/root$EP
echo "nobody:x:65534:65534::/:/sbin/nologin" > $W/root/etc/passwd
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C $W/root -cf $W/layer.tar .
DIFF=$(sha256sum $W/layer.tar | cut -d' ' -f1)
cat > $W/config.json <<EOJ
{"architecture":"amd64","os":"linux","config":{"Entrypoint":["$EP"],"Env":["PATH=/"],"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:$DIFF"]},"history":[{"created_by":"mkimage.sh"}]}
EOJ
echo "[{\"Config\":\"config.json\",\"RepoTags\":[\"$REF\"],\"Layers\":[\"layer.tar\"]}]" > $W/manifest.json
tar -C $W -cf $OUT manifest.json config.json layer.tar; rm -rf $W
__KT_EOF__
mkdir -p $K/scripts && cat > $K/scripts/runc-oomclamp <<'__KT_EOF__'
#!/bin/sh
# runc wrapper used by containerd (BinaryName). This VM's root has no CAP_SYS_RESOURCE, so a negative
# oom_score_adj (the CRI pause/sandbox container always gets -998, Guaranteed pods -997) makes runc fail with
# "nsexec: failed to update /proc/self/oom_score_adj: Permission denied" -> clamp negative values to 0.
prev=
for a in "$@"; do
  if [ "$prev" = "--bundle" ] && [ -f "$a/config.json" ]; then sed -i -E 's/"oomScoreAdj":-[0-9]+/"oomScoreAdj":0/' "$a/config.json"; fi
  prev=$a
done
exec /usr/sbin/runc "$@"
__KT_EOF__
mkdir -p $K/scripts && cat > $K/scripts/smoke.sh <<'__KT_EOF__'
#!/bin/bash
# smoke.sh -- namespaces, Deployment (hostNetwork + bridge-CNI pod), CronJob (+ a Job run from it); prints timings.
set -euo pipefail
K=/tmp/kube-try; KC="$K/bin/kubectl --kubeconfig=$K/pki/admin.kubeconfig"
now() { date +%s.%N; }; el() { echo "$(now) - $1" | bc; }
deadline=$(( $(date +%s) + ${SMOKE_TIMEOUT:-180} ))
chk() { (( $(date +%s) < deadline )) || { echo "SMOKE FAIL: timeout"; $KC -n smoke get pods -o wide; $KC -n smoke get events | tail -20; exit 1; }; }
$KC get ns
$KC create namespace smoke --dry-run=client -o yaml | $KC apply -f -
t=$(now)
cat <<'EOY' | $KC apply -n smoke -f -
apiVersion: apps/v1
kind: Deployment
metadata: {name: hello-hostnet}
spec:
  replicas: 1
  selector: {matchLabels: {app: hello-hostnet}}
  template:
    metadata: {labels: {app: hello-hostnet}}
    spec:
      hostNetwork: true
      containers:
      - name: hello
        image: kt.local/hello:1
        imagePullPolicy: Never
        env: [{name: PORT, value: "38080"}]
        readinessProbe: {httpGet: {path: /, port: 38080, host: 127.0.0.1}, periodSeconds: 1}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: hello-pod}
spec:
  replicas: 2
  selector: {matchLabels: {app: hello-pod}}
  template:
    metadata: {labels: {app: hello-pod}}
    spec:
      containers:
      - name: hello
        image: kt.local/hello:1
        imagePullPolicy: Never
        ports: [{containerPort: 8080}]
        readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 1}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: hello-cron}
spec:
  schedule: "* * * * *"
  successfulJobsHistoryLimit: 1
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
          - {name: once, image: kt.local/hello:1, imagePullPolicy: Never, args: ["once"]}
EOY
until curl -fs --max-time 1 http://127.0.0.1:38080/ 2>/dev/null | grep -q "hello from"; do chk; sleep 0.2; done
echo "SMOKE hostNetwork deployment: apply -> 127.0.0.1:38080 answering in $(el $t)s: $(curl -s http://127.0.0.1:38080/)"
until [ "$($KC -n smoke get pods -l app=hello-pod -o jsonpath='{range .items[*]}{.status.podIP}{" "}{end}' | wc -w)" = 2 ]; do chk; sleep 0.2; done
for ip in $($KC -n smoke get pods -l app=hello-pod -o jsonpath='{range .items[*]}{.status.podIP}{" "}{end}'); do
  until curl -fs --max-time 1 http://$ip:8080/ 2>/dev/null | grep -q "hello from"; do chk; sleep 0.2; done
  echo "SMOKE bridge pod $ip:8080 answering at $(el $t)s: $(curl -s http://$ip:8080/)"
done
$KC -n smoke rollout status deploy/hello-pod --timeout=60s
echo "SMOKE both deployments Available at $(el $t)s"
t2=$(now); $KC -n smoke create job --from=cronjob/hello-cron hello-manual
$KC -n smoke wait --for=condition=complete job/hello-manual --timeout=60s
echo "SMOKE job from cronjob completed in $(el $t2)s; log: $($KC -n smoke logs job/hello-manual)"
$KC -n smoke get deploy,rs,pods,cronjob,jobs -o wide
__KT_EOF__
mkdir -p $K/src/images && cat > $K/src/images/go.mod <<'__KT_EOF__'
module ktimages

go 1.22
__KT_EOF__
mkdir -p $K/src/images/pause && cat > $K/src/images/pause/main.go <<'__KT_EOF__'
// Minimal pause: sleeps forever, reaps zombies, exits on SIGINT/SIGTERM.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	c := make(chan os.Signal, 8)
	signal.Notify(c, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for s := range c {
		if s == syscall.SIGCHLD {
			for {
				var ws syscall.WaitStatus
				pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
				if pid <= 0 || err != nil {
					break
				}
			}
			continue
		}
		os.Exit(0)
	}
}
__KT_EOF__
mkdir -p $K/src/images/hello && cat > $K/src/images/hello/main.go <<'__KT_EOF__'
// Tiny HTTP server for tests: GET / -> "hello from <hostname>\n". Port from $PORT (default 8080).
// With argument "once" it prints a line and exits (for Jobs/CronJobs).
package main

import (
	"fmt"
	"net/http"
	"os"
	"time"
)

func main() {
	h, _ := os.Hostname()
	if len(os.Args) > 1 && os.Args[1] == "once" {
		fmt.Printf("hello once from %s at %s\n", h, time.Now().Format(time.RFC3339))
		return
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintf(w, "hello from %s\n", h) })
	fmt.Println("listening on :" + port)
	if err := http.ListenAndServe(":"+port, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
__KT_EOF__
mkdir -p $K/etc && cat > $K/etc/containerd.toml <<'__KT_EOF__'
version = 2
root = "/tmp/kube-try/run/containerd/root"
state = "/tmp/kube-try/run/containerd/state"
[grpc]
  address = "/tmp/kube-try/run/containerd/containerd.sock"
[ttrpc]
  address = "/tmp/kube-try/run/containerd/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.10"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  # this VM has no CAP_SYS_RESOURCE: the sandbox oom_score_adj -998 would fail in runc
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        BinaryName = "/tmp/kube-try/scripts/runc-oomclamp"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "/tmp/kube-try/etc/cni"
    max_conf_num = 1
__KT_EOF__
mkdir -p $K/etc && cat > $K/etc/kubelet.yaml <<'__KT_EOF__'
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: 10250
healthzBindAddress: 127.0.0.1
healthzPort: 10248
readOnlyPort: 0
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix:///tmp/kube-try/run/containerd/containerd.sock
failSwapOn: false
failCgroupV1: false
podLogsDir: /tmp/kube-try/run/pod-logs
tlsCertFile: /tmp/kube-try/pki/kubelet-serving.crt
tlsPrivateKeyFile: /tmp/kube-try/pki/kubelet-serving.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: /tmp/kube-try/pki/ca.crt}
authorization:
  mode: Webhook
registerNode: true
resolvConf: /etc/resolv.conf
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {"memory.available": "100Mi", "nodefs.available": "1%", "imagefs.available": "1%", "nodefs.inodesFree": "1%"}
serializeImagePulls: false
syncFrequency: 10s
fileCheckFrequency: 10s
nodeStatusUpdateFrequency: 5s
localStorageCapacityIsolation: true
__KT_EOF__
mkdir -p $K/etc/cni && cat > $K/etc/cni/10-kt.conflist <<'__KT_EOF__'
{
 "cniVersion": "0.4.0",
 "name": "kt-net",
 "plugins": [
  {
   "type": "bridge",
   "bridge": "kt-cni0",
   "isGateway": true,
   "ipMasq": false,
   "hairpinMode": false,
   "ipam": {
    "type": "host-local",
    "dataDir": "/tmp/kube-try/run/cni-ipam",
    "ranges": [
     [
      {
       "subnet": "10.244.0.0/24"
      }
     ]
    ],
    "routes": [
     {
      "dst": "0.0.0.0/0"
     }
    ]
   }
  }
 ]
}
__KT_EOF__
chmod +x $K/scripts/*

# ---- 1. packages (Debian) ----
need=(); pk="containerd runc containernetworking-plugins openssl curl bc nftables"; [ "$ETCD_VERSION" = debian ] && pk="$pk etcd-server"
for p in $pk; do dpkg -s $p >/dev/null 2>&1 || need+=($p); done
if [ ${#need[@]} -gt 0 ]; then apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; fi
ts "packages ok"

# ---- 2. Kubernetes binaries from the Go module proxy (wrapper module with replace lines) ----
if [ ! -x $BIN/kubelet ] || [ "$(cat $BIN/.version 2>/dev/null)" != "$K8S_VERSION" ]; then
  mkdir -p $K/src/k8s && cd $K/src/k8s
  [ -f go.mod ] && grep -q "k8s.io/kubernetes $K8S_VERSION" go.mod || { rm -f go.mod go.sum; $K/scripts/gen-gomod.sh $K8S_VERSION; nice -n 10 go mod tidy; }
  $K/scripts/build-k8s.sh $BIN; echo $K8S_VERSION > $BIN/.version; cd $K
fi
ts "k8s binaries ok ($(cat $BIN/.version))"
if [ "$ETCD_VERSION" = debian ]; then ETCD=/usr/bin/etcd; else
  ETCD=$BIN/etcd
  if [ ! -x $ETCD ] || ! $ETCD --version | grep -q "Version: ${ETCD_VERSION#v}"; then
    mkdir -p $K/src/etcd && cd $K/src/etcd
    { echo "module etcdbuild"; echo; echo "go 1.25.0"; echo; echo "require go.etcd.io/etcd/server/v3 $ETCD_VERSION"; echo "replace ("
      for m in api/v3 client/pkg/v3 client/v3 pkg/v3; do echo "	go.etcd.io/etcd/$m => go.etcd.io/etcd/$m $ETCD_VERSION"; done; echo ")"; } > go.mod
    printf '//go:build tools\npackage etcdbuild\nimport _ "go.etcd.io/etcd/server/v3"\n' > tools.go
    nice -n 10 go mod tidy && nice -n 10 go build -ldflags '-s -w' -o $ETCD go.etcd.io/etcd/server/v3; cd $K
  fi
fi
ts "etcd ok ($($ETCD --version | head -1))"

# ---- 3. local images (static Go binaries packed as docker-archive) ----
if [ ! -f $K/images/pause.tar ] || [ ! -f $K/images/hello.tar ]; then
  (cd $K/src/images && CGO_ENABLED=0 nice -n 10 go build -ldflags '-s -w' -o $K/images/pause ./pause && CGO_ENABLED=0 nice -n 10 go build -ldflags '-s -w' -o $K/images/hello ./hello)
  $K/scripts/mkimage.sh $K/images/pause registry.k8s.io/pause:3.10 $K/images/pause.tar /pause
  $K/scripts/mkimage.sh $K/images/hello kt.local/hello:1 $K/images/hello.tar /hello
fi
ts "images ok"

# ---- 4. PKI + kubeconfigs ----
$K/scripts/pki.sh $PKI localhost >/dev/null; ts "pki ok"

# ---- 5. etcd ----
mkdir -p $RUN/etcd
start etcd $ETCD --name kt --data-dir $RUN/etcd --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
  --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 --initial-cluster kt=http://127.0.0.1:2380 \
  --listen-metrics-urls http://127.0.0.1:2381 --unsafe-no-fsync
waitfor etcd 30 curl -fs http://127.0.0.1:2379/health

# ---- 6. kube-apiserver ----
start kube-apiserver $BIN/kube-apiserver --etcd-servers=http://127.0.0.1:2379 \
  --bind-address=127.0.0.1 --secure-port=6443 --advertise-address=127.0.0.1 --endpoint-reconciler-type=none \
  --tls-cert-file=$PKI/apiserver.crt --tls-private-key-file=$PKI/apiserver.key --client-ca-file=$PKI/ca.crt \
  --service-account-key-file=$PKI/sa.pub --service-account-signing-key-file=$PKI/sa.key \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local --service-cluster-ip-range=10.96.0.0/24 \
  --authorization-mode=Node,RBAC --allow-privileged=true \
  --kubelet-client-certificate=$PKI/apiserver-kubelet-client.crt --kubelet-client-key=$PKI/apiserver-kubelet-client.key \
  --kubelet-preferred-address-types=Hostname --profiling=false
KC="$BIN/kubectl --kubeconfig=$PKI/admin.kubeconfig"
waitfor kube-apiserver 120 curl -fs --cacert $PKI/ca.crt --cert $PKI/admin.crt --key $PKI/admin.key https://127.0.0.1:6443/readyz

# ---- 7. controller-manager + scheduler ----
start kube-controller-manager $BIN/kube-controller-manager --kubeconfig=$PKI/controller-manager.kubeconfig \
  --authentication-kubeconfig=$PKI/controller-manager.kubeconfig --authorization-kubeconfig=$PKI/controller-manager.kubeconfig \
  --bind-address=127.0.0.1 --leader-elect=false --use-service-account-credentials=true \
  --service-account-private-key-file=$PKI/sa.key --root-ca-file=$PKI/ca.crt \
  --cluster-signing-cert-file=$PKI/ca.crt --cluster-signing-key-file=$PKI/ca.key --service-cluster-ip-range=10.96.0.0/24 --profiling=false
start kube-scheduler $BIN/kube-scheduler --kubeconfig=$PKI/scheduler.kubeconfig \
  --authentication-kubeconfig=$PKI/scheduler.kubeconfig --authorization-kubeconfig=$PKI/scheduler.kubeconfig \
  --bind-address=127.0.0.1 --leader-elect=false --profiling=false
waitfor kube-controller-manager 60 curl -fsk https://127.0.0.1:10257/healthz
waitfor kube-scheduler 60 curl -fsk https://127.0.0.1:10259/healthz
# pods are rejected until the namespace's "default" ServiceAccount exists (made by the controller-manager a few s after start)
waitfor "serviceaccount default/default" 60 $KC get serviceaccount default -n default

# ---- 8. node: containerd + kubelet ----
if [ "$NODE" = 1 ]; then
  # record host settings that kubelet / the CNI bridge plugin change, so down.sh can restore them
  [ -f $RUN/sysctls.saved ] || for s in vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops kernel.keys.root_maxkeys kernel.keys.root_maxbytes net.ipv4.ip_forward; do echo "$s=$(sysctl -n $s)"; done > $RUN/sysctls.saved
  [ -d /run/containerd ] || touch $RUN/created-run-containerd
  [ -f $RUN/netns.before ] || ls /var/run/netns 2>/dev/null > $RUN/netns.before || true
  [ -d /var/lib/cni ] || touch $RUN/created-var-lib-cni
  [ -d /var/log/containers ] || touch $RUN/created-var-log-containers
  [ -f $RUN/nft-tables.before ] || nft list tables > $RUN/nft-tables.before 2>/dev/null || true   # kubelet adds KUBE-* chains via iptables-nft
  [ -d /var/lib/kubelet ] || touch $RUN/created-var-lib-kubelet   # kubelet always makes /var/lib/kubelet/device-plugins
  start containerd containerd --config $K/etc/containerd.toml
  export CONTAINERD_ADDRESS=$RUN/containerd/containerd.sock
  waitfor containerd 30 ctr version
  ctr -n k8s.io images import $K/images/pause.tar >/dev/null; ctr -n k8s.io images import $K/images/hello.tar >/dev/null; ts "images imported"
  mkdir -p $RUN/kubelet $RUN/pod-logs
  start kubelet $BIN/kubelet --config=$K/etc/kubelet.yaml --kubeconfig=$PKI/kubelet.kubeconfig \
    --hostname-override=localhost --root-dir=$RUN/kubelet --v=1
  waitfor "node Ready" 120 bash -c "$KC get node localhost -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -qx True"
fi
ts "cluster up. export KUBECONFIG=$PKI/admin.kubeconfig"
[ "$SMOKE" = 1 ] && $K/scripts/smoke.sh
exit 0
