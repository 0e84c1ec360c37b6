// Education: courses and their people, assignments with visible and hidden tests,
// each student's copy, submissions and their grading, progress. Times are unix ms.

import { encodePath, request, type Project } from "@/lib/api";
import type { components } from "@/lib/schema.gen";

type Schemas = components["schemas"];

/** Teacher (owner and co-teachers: everything), TA (reads all, grades by hand), student (own work). */
export type CourseRole = Schemas["CourseRole"];
/** A course as one of its members sees it; joinCode is for teachers only. */
export type Course = Schemas["Course"];
export type CourseMember = Schemas["CourseMember"];
export type Runner = Schemas["Runner"];
export type TestFile = Schemas["TestFile"];
export type IOCase = Schemas["IOCase"];
export type RubricItem = Schemas["RubricItem"];
export type LatePolicy = Schemas["LatePolicy"];
/** Teachers see every test; a student sees no hidden one (hiddenTests counts them) and gets mine. */
export type Assignment = Schemas["Assignment"];
export type AssignmentInput = Schemas["AssignmentInput"];
export type AssignmentProject = Schemas["AssignmentProject"];
export type Submission = Schemas["Submission"];
export type GradeResult = Schemas["GradeResult"];
export type SimilarityPair = Schemas["SimilarityPair"];
export type Progress = Schemas["Progress"];
export type ProgressCell = Schemas["ProgressCell"];
export type WorkState = ProgressCell["state"];
export type CourseLti = Schemas["CourseLti"];
export type Passback = CourseLti["passbacks"][number];

export interface SubmissionFile {
  path: string;
  size: number;
}

export interface ManualGrade {
  rubric: { id: string; points: number; comment?: string }[];
  feedback?: string;
}

const coursePath = (id: string) => `/api/courses/${encodeURIComponent(id)}`;
const assignmentPath = (id: string, aid: string) => `${coursePath(id)}/assignments/${encodeURIComponent(aid)}`;
const submissionPath = (id: string, sid: string) => `${coursePath(id)}/submissions/${encodeURIComponent(sid)}`;

export const courseApi = {
  courses: () => request<{ courses: Course[] }>("GET", "/api/courses").then((r) => r.courses),
  create: (name: string, description: string) =>
    request<{ course: Course }>("POST", "/api/courses", { json: { name, description } }).then((r) => r.course),
  /** 404 when no course has the code (or it was replaced). */
  join: (code: string) => request<{ course: Course }>("POST", "/api/courses/join", { json: { code } }).then((r) => r.course),
  course: (id: string) => request<{ course: Course }>("GET", coursePath(id)).then((r) => r.course),
  update: (id: string, patch: { name?: string; description?: string }) =>
    request<{ course: Course }>("PATCH", coursePath(id), { json: patch }).then((r) => r.course),
  remove: (id: string) => request<void>("DELETE", coursePath(id)),
  /** A new code; the old one stops working. */
  rotateJoinCode: (id: string) =>
    request<{ joinCode: string }>("POST", `${coursePath(id)}/join-code`).then((r) => r.joinCode),

  members: (id: string) => request<{ members: CourseMember[] }>("GET", `${coursePath(id)}/members`).then((r) => r.members),
  /** 404 user_not_found; 409 already_member. */
  addMember: (id: string, username: string, role: CourseRole) =>
    request<{ member: CourseMember }>("POST", `${coursePath(id)}/members`, { json: { username, role } }).then((r) => r.member),
  setMemberRole: (id: string, userId: string, role: CourseRole) =>
    request<{ member: CourseMember }>("PATCH", `${coursePath(id)}/members/${encodeURIComponent(userId)}`, { json: { role } }).then(
      (r) => r.member,
    ),
  removeMember: (id: string, userId: string) => request<void>("DELETE", `${coursePath(id)}/members/${encodeURIComponent(userId)}`),

  assignments: (id: string) =>
    request<{ assignments: Assignment[] }>("GET", `${coursePath(id)}/assignments`).then((r) => r.assignments),
  assignment: (id: string, aid: string) =>
    request<{ assignment: Assignment }>("GET", assignmentPath(id, aid)).then((r) => r.assignment),
  createAssignment: (id: string, input: AssignmentInput) =>
    request<{ assignment: Assignment }>("POST", `${coursePath(id)}/assignments`, { json: input }).then((r) => r.assignment),
  updateAssignment: (id: string, aid: string, input: AssignmentInput) =>
    request<{ assignment: Assignment }>("PATCH", assignmentPath(id, aid), { json: input }).then((r) => r.assignment),
  removeAssignment: (id: string, aid: string) => request<void>("DELETE", assignmentPath(id, aid)),
  /** The student's own copy: made the first time, the same one after. */
  start: (id: string, aid: string) =>
    request<{ project: AssignmentProject }>("POST", `${assignmentPath(id, aid)}/start`).then((r) => r.project),
  /** Runs the visible tests now, not as a submission. */
  check: (id: string, aid: string) =>
    request<{ result: GradeResult }>("POST", `${assignmentPath(id, aid)}/check`).then((r) => r.result),
  /** 409 too_many_submissions; 409 past_due. */
  submit: (id: string, aid: string) =>
    request<{ submission: Submission }>("POST", `${assignmentPath(id, aid)}/submit`).then((r) => r.submission),
  submissions: (id: string, aid: string) =>
    request<{ submissions: Submission[] }>("GET", `${assignmentPath(id, aid)}/submissions`).then((r) => r.submissions),
  similarity: (id: string, aid: string) =>
    request<{ pairs: SimilarityPair[]; threshold: number }>("GET", `${assignmentPath(id, aid)}/similarity`),

  submission: (id: string, sid: string) =>
    request<{ submission: Submission }>("GET", submissionPath(id, sid)).then((r) => r.submission),
  submissionFiles: (id: string, sid: string) =>
    request<{ files: SubmissionFile[] }>("GET", `${submissionPath(id, sid)}/files`).then((r) => r.files),
  submissionFileUrl: (id: string, sid: string, path: string) => `${submissionPath(id, sid)}/files/${encodePath(path)}`,
  grade: (id: string, sid: string, grade: ManualGrade) =>
    request<{ submission: Submission }>("POST", `${submissionPath(id, sid)}/grade`, { json: grade }).then((r) => r.submission),
  regrade: (id: string, sid: string) =>
    request<{ submission: Submission }>("POST", `${submissionPath(id, sid)}/regrade`).then((r) => r.submission),

  progress: (id: string) => request<Progress>("GET", `${coursePath(id)}/progress`),
  progressCsvUrl: (id: string) => `${coursePath(id)}/progress.csv`,

  /** 404 when the project is neither an assignment's starter nor a student's copy. */
  projectAssignment: (projectId: string) =>
    request<{ course: { id: string; name: string }; assignment: Assignment }>(
      "GET",
      `/api/projects/${encodeURIComponent(projectId)}/assignment`,
    ),

  /** The starter's owner and slug, for a link into its workspace. */
  project: (projectId: string) =>
    request<{ project: Project }>("GET", `/api/projects/${encodeURIComponent(projectId)}`).then((r) => r.project),

  lti: (id: string) => request<CourseLti>("GET", `${coursePath(id)}/lti`),
  rosterSync: (id: string) =>
    request<{ added: number; updated: number; removed: number }>("POST", `${coursePath(id)}/lti/roster-sync`),
  retryPassback: (id: string, submissionId: string) =>
    request<void>("POST", `${coursePath(id)}/lti/passbacks/${encodeURIComponent(submissionId)}/retry`),
};

/** Query keys, all under ["courses"]. */
export const courseKeys = {
  list: ["courses", "list"] as const,
  course: (id: string) => ["courses", id] as const,
  members: (id: string) => ["courses", id, "members"] as const,
  assignments: (id: string) => ["courses", id, "assignments"] as const,
  assignment: (id: string, aid: string) => ["courses", id, "assignments", aid] as const,
  submissions: (id: string, aid: string) => ["courses", id, "assignments", aid, "submissions"] as const,
  similarity: (id: string, aid: string) => ["courses", id, "assignments", aid, "similarity"] as const,
  submission: (id: string, sid: string) => ["courses", id, "submission", sid] as const,
  files: (id: string, sid: string) => ["courses", id, "submission", sid, "files"] as const,
  progress: (id: string) => ["courses", id, "progress"] as const,
  lti: (id: string) => ["courses", id, "lti"] as const,
  projectAssignment: (projectId: string) => ["courses", "project", projectId] as const,
};

export const coursePathFor = (id: string) => `/courses/${encodeURIComponent(id)}`;
export const assignmentPathFor = (id: string, aid: string) => `${coursePathFor(id)}/assignments/${encodeURIComponent(aid)}`;
export const joinLinkFor = (code: string) => `${window.location.origin}/courses/join/${encodeURIComponent(code)}`;
export const projectUrl = (p: { owner: string; slug: string }) => `/@${p.owner}/${p.slug}`;

export const roleLabels: Record<CourseRole, string> = { teacher: "Teacher", ta: "TA", student: "Student" };
export const roleHints: Record<CourseRole, string> = {
  teacher: "everything: assignments, grading, people and settings",
  ta: "sees all work and grades by hand; no settings or roster changes",
  student: "their own work only",
};
export const isStaff = (role: CourseRole) => role === "teacher" || role === "ta";

export const stateLabels: Record<WorkState, string> = {
  not_started: "Not started",
  in_progress: "In progress",
  submitted: "Submitted",
  graded: "Graded",
};

export const runnerLabels: Record<Runner, string> = {
  pytest: "pytest (Python)",
  unittest: "unittest (Python)",
  node: "node --test (JavaScript)",
  jest: "Jest (JavaScript)",
  go: "go test (Go)",
  io: "Input / output cases",
};

/** "7.5", "10": a score without noise. */
export const points = (n: number) => String(Math.round(n * 100) / 100);

/** Grading ended one way or the other; anything else is still moving. */
export const settled = (s: Submission) => s.status === "graded" || s.status === "failed";
