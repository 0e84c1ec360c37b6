package export

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// KnativeService is a serving.knative.dev/v1 Service, the shape both
// Knative and Cloud Run read. knative.dev/serving's own Go types cannot be
// built from the module proxy (knative.dev/pkg is not served there), so
// the fields exported are declared here the way serving declares them:
// the revision's spec is a Kubernetes PodSpec with Knative's fields beside
// it.
type KnativeService struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              KnativeServiceSpec `json:"spec"`
}

// KnativeServiceSpec is the Service's revision template and its traffic.
type KnativeServiceSpec struct {
	Template RevisionTemplate `json:"template"`
	Traffic  []TrafficTarget  `json:"traffic,omitempty"`
}

// RevisionTemplate is what each revision of the Service is made from.
type RevisionTemplate struct {
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              RevisionSpec `json:"spec"`
}

// RevisionSpec is a PodSpec with how many requests a container takes at
// once (0: no limit) and how long one may take.
type RevisionSpec struct {
	corev1.PodSpec       `json:",inline"`
	ContainerConcurrency *int64 `json:"containerConcurrency,omitempty"`
	TimeoutSeconds       *int64 `json:"timeoutSeconds,omitempty"`
}

// TrafficTarget routes a share of the requests to a revision.
type TrafficTarget struct {
	LatestRevision *bool  `json:"latestRevision,omitempty"`
	Percent        *int64 `json:"percent,omitempty"`
}

var knativeService = metav1.TypeMeta{APIVersion: "serving.knative.dev/v1", Kind: "Service"}

// allToLatest sends every request to the newest revision.
func allToLatest() []TrafficTarget {
	return []TrafficTarget{{LatestRevision: new(true), Percent: new(int64(100))}}
}
