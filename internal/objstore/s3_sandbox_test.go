package objstore_test

import (
	"encoding/json"
	"strings"
	"testing"

	"ecode/internal/store/testdb"
	"ecode/internal/testserver"
)

// awsClientScript drives the unmodified AWS SDK for JavaScript v3 with no
// configuration: endpoint, region and credentials come from the
// environment the sandbox gives every command.
const awsClientScript = `const { S3Client, CreateBucketCommand, PutObjectCommand, GetObjectCommand, HeadObjectCommand,
  ListObjectsV2Command, CopyObjectCommand, DeleteObjectCommand } = require("@aws-sdk/client-s3");
const { Upload } = require("@aws-sdk/lib-storage");
const { Readable } = require("node:stream");
(async () => {
  const s3 = new S3Client({});
  const out = {};
  await s3.send(new CreateBucketCommand({ Bucket: "photos" }));
  const key = "dir/héllo wörld+1.txt";
  await s3.send(new PutObjectCommand({ Bucket: "photos", Key: key, Body: "hi there", ContentType: "text/plain", Metadata: { owner: "ada" } }));
  const got = await s3.send(new GetObjectCommand({ Bucket: "photos", Key: key }));
  out.text = await got.Body.transformToString();
  out.owner = got.Metadata.owner;
  const part = await s3.send(new GetObjectCommand({ Bucket: "photos", Key: key, Range: "bytes=3-7" }));
  out.range = await part.Body.transformToString();
  // A streamed body goes aws-chunked, its checksum in a trailer.
  await s3.send(new PutObjectCommand({ Bucket: "photos", Key: "dir/stream.txt", Body: Readable.from([Buffer.from("streamed "), Buffer.from("body")]), ContentLength: 13 }));
  out.stream = await (await s3.send(new GetObjectCommand({ Bucket: "photos", Key: "dir/stream.txt" }))).Body.transformToString();
  await s3.send(new CopyObjectCommand({ Bucket: "default", Key: "copy.txt", CopySource: "photos/" + encodeURIComponent(key) }));
  out.copy = await (await s3.send(new GetObjectCommand({ Bucket: "default", Key: "copy.txt" }))).Body.transformToString();
  const list = await s3.send(new ListObjectsV2Command({ Bucket: "photos", Delimiter: "/" }));
  out.prefixes = (list.CommonPrefixes || []).map((p) => p.Prefix);
  const inDir = await s3.send(new ListObjectsV2Command({ Bucket: "photos", Prefix: "dir/" }));
  out.keys = (inDir.Contents || []).map((o) => o.Key);
  await s3.send(new DeleteObjectCommand({ Bucket: "photos", Key: "dir/stream.txt" }));
  try { await s3.send(new HeadObjectCommand({ Bucket: "photos", Key: "dir/stream.txt" })); out.deleted = false; }
  catch (e) { out.deleted = e.$metadata.httpStatusCode === 404; }
  // 12 MiB through lib-storage: three parts, uploaded in parallel.
  const big = Buffer.alloc(12 << 20);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7919 + (i >> 13)) & 255;
  await new Upload({ client: s3, params: { Bucket: "default", Key: "big.bin", Body: big } }).done();
  const back = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: "default", Key: "big.bin" }))).Body.transformToByteArray());
  out.big = back.equals(big);
  const wrong = new S3Client({ credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: "x".repeat(40) } });
  try { await wrong.send(new GetObjectCommand({ Bucket: "default", Key: "copy.txt" })); out.wrong = "read"; }
  catch (e) { out.wrong = e.name; }
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e.name, e.message); process.exit(1); });`

// The unmodified @aws-sdk/client-s3 and @aws-sdk/lib-storage from npm, in a
// project's sandbox, reach the project's objects from the environment
// alone; another project's sandbox, even with this one's keys, does not.
func TestAWSClientInSandbox(t *testing.T) {
	testserver.NeedSandbox(t)
	s := testserver.New(t, testdb.Engines(t)[0])
	ada := s.SignUp(t, "ada")
	p := ada.CreateProject(t, "S3")
	other := ada.CreateProject(t, "Other")
	ada.Put(t, "/api/projects/"+p.ID+"/files/package.json", `{"name":"s3","version":"1.0.0","dependencies":{"@aws-sdk/client-s3":"3.1175.0","@aws-sdk/lib-storage":"3.1175.0"}}`).WantStatus(t, 204)
	ada.Put(t, "/api/projects/"+p.ID+"/files/s3.js", awsClientScript).WantStatus(t, 204)
	var res struct {
		ExitCode int    `json:"exitCode"`
		Stdout   string `json:"stdout"`
		Stderr   string `json:"stderr"`
	}
	ada.Post(t, "/api/projects/"+p.ID+"/exec", map[string]any{"command": "npm install --no-audit --no-fund >/dev/null 2>&1 && node s3.js", "timeoutSec": 300}).WantStatus(t, 200).Decode(t, &res)
	var out struct {
		Text, Owner, Range, Stream, Copy, Wrong string
		Prefixes, Keys                          []string
		Deleted, Big                            bool
	}
	if res.ExitCode != 0 || json.Unmarshal([]byte(res.Stdout), &out) != nil {
		t.Fatalf("the client: %+v", res)
	}
	if out.Text != "hi there" || out.Owner != "ada" || out.Range != "there" || out.Stream != "streamed body" || out.Copy != "hi there" ||
		strings.Join(out.Prefixes, ",") != "dir/" || strings.Join(out.Keys, ",") != "dir/héllo wörld+1.txt,dir/stream.txt" ||
		!out.Deleted || !out.Big || out.Wrong != "SignatureDoesNotMatch" {
		t.Fatalf("the client saw %+v", out)
	}

	// curl's own SigV4, from the other project's sandbox: with its own keys
	// the bucket does not exist there; with this project's, refused.
	ada.Post(t, "/api/projects/"+p.ID+"/exec", map[string]any{"command": `echo "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY"`}).WantStatus(t, 200).Decode(t, &res)
	keys := strings.TrimSpace(res.Stdout)
	curl := `curl -s -o /dev/null -w '%{http_code} ' --aws-sigv4 aws:amz:us-east-1:s3 -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" `
	ada.Post(t, "/api/projects/"+other.ID+"/exec", map[string]any{"command": curl + `--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" "$AWS_ENDPOINT_URL/default/copy.txt"; ` +
		curl + `--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" "$AWS_ENDPOINT_URL/photos?list-type=2"; ` +
		curl + `--user '` + keys + `' "$AWS_ENDPOINT_URL/default/copy.txt"`}).WantStatus(t, 200).Decode(t, &res)
	if got := strings.Fields(res.Stdout); strings.Join(got, " ") != "404 404 403" {
		t.Fatalf("another project's sandbox: %+v", res)
	}
}
