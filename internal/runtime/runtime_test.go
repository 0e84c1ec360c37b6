package runtime

import (
	"slices"
	"testing"
)

func TestMergeEnv(t *testing.T) {
	got := MergeEnv([]string{"A=1", "B=2", "C=3"}, []string{"B=20", "D=4", "A="})
	if want := []string{"A=", "B=20", "C=3", "D=4"}; !slices.Equal(got, want) {
		t.Fatalf("MergeEnv = %v, want %v", got, want)
	}
}
