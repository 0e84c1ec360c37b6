import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useNavigate } from "react-router";
import { DangerZone, TypeToConfirm } from "@/components/DangerZone";
import { Field } from "@/components/ui/field";
import { api, type User } from "@/lib/api";

/** Deleting the account: its projects go with it, after the person confirms. */
export function DeleteAccountSection({ user }: { user: User }) {
  return (
    <DangerZone title="Delete account" buttonLabel="Delete my account" dialog={(close) => <DeleteForm user={user} onCancel={close} />}>
      Deletes your account, every project you own with its files and history, your tokens and keys. This cannot be undone.
    </DangerZone>
  );
}

function DeleteForm({ user, onCancel }: { user: User; onCancel: () => void }) {
  const [password, setPassword] = useState("");
  const qc = useQueryClient();
  const navigate = useNavigate();
  return (
    <TypeToConfirm
      title="Delete your account?"
      description={`Type ${user.username} to confirm. Your projects are deleted with it.`}
      label="Username"
      matches={(typed) => typed.trim().toLowerCase() === user.username}
      ready={!user.hasPassword || password !== ""}
      submitLabel="Delete account"
      action={(typed) => api.deleteAccount(typed, password)}
      onDone={() => {
        qc.clear();
        void navigate("/login", { replace: true });
      }}
      onCancel={onCancel}
    >
      {user.hasPassword && (
        <Field label="Password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} />
      )}
    </TypeToConfirm>
  );
}
