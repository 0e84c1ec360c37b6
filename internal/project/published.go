package project

// What the project service, and the cluster for a project that moves
// between servers, publish on the events bus.

// Deleted: project ProjectID is gone, with its files and history. Its
// subscribers clean up what is stored once (files, rows, databases), on
// the server where the deletion happened.
type Deleted struct{ ProjectID string }

// Gone: project ProjectID was deleted; published before Deleted. In a
// cluster it reaches every server: the one holding the project lets go of
// its tabs, documents, sandbox, app instances and schedule, wherever the
// deletion happened.
type Gone struct{ ProjectID string }

// Updated: a project's settings (name, visibility, internet access...)
// changed.
type Updated struct{ Project *Project }

// Transferred: a project changed owners, so who may reach it, and the
// team secrets it gets, changed with them.
type Transferred struct{ Project *Project }

// FileMoved: a file or folder of a project moved; editors that have it
// open follow it.
type FileMoved struct{ ProjectID, From, To string }

// FilesChanged: files of a project changed, through Tree or, as its
// watcher saw, from inside the sandbox; the platform checkpoints them once
// edits settle.
type FilesChanged struct{ ProjectID string }

// AccessChanged: UserID's role on the project changed or ended; their
// live connections to it reconnect with what they may now do, or close.
type AccessChanged struct{ ProjectID, UserID string }

// AdmissionChanged: the addresses the project may be reached from
// changed (its team's allowlist); live connections from addresses it now
// refuses close.
type AdmissionChanged struct{ ProjectID string }

// HandedOver: another server of the cluster holds the project's live
// state now; this one lets go of its tabs and its sandbox, which come
// back through the other.
type HandedOver struct{ ProjectID string }

// Adopted: this server took the project over from a dead one; what ran
// there by itself (app instances, schedules) starts here.
type Adopted struct{ ProjectID string }
