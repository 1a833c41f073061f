import { useState } from "preact/hooks";
import { ApiError, del, patch, post } from "../api";
import { Field, Page, Status, Table, TextField, useGet } from "../components";
import { ep } from "../endpoints";
import type { Me } from "../session";

const ROLES = ["owner", "admin", "supervisor", "agent", "analyst"];
const EMPTY = { email: "", name: "", role: "agent", password: "", extension: "", team: "" };

/** Sign-in accounts of the tenant; owners add, change roles and remove. */
export function Users(props: { canManage: boolean; me: Me }) {
  const list = useGet<any>(ep.users);
  const [form, setForm] = useState<Record<string, string>>(EMPTY);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [note, setNote] = useState("");
  const set = (k: string) => (v: string) => setForm({ ...form, [k]: v });

  async function add(e: Event) {
    e.preventDefault();
    try {
      await post(ep.users, form);
      setForm(EMPTY);
      setErrors({});
      setNote(`Added ${form.email}.`);
      list.reload();
    } catch (err) {
      const ae = err as ApiError;
      setErrors(Object.keys(ae.fields).length ? ae.fields : { _: ae.message });
    }
  }
  async function change(id: string, body: any) {
    try { await patch(`${ep.users}/${id}`, body); list.reload(); } catch (err) { setNote((err as ApiError).message); }
  }
  async function remove(id: string) {
    if (!confirm("Remove this account?")) return;
    try { await del(`${ep.users}/${id}`); list.reload(); } catch (err) { setNote((err as ApiError).message); }
  }

  return (
    <Page title="Users">
      {note && <p class="notice" role="status">{note}</p>}
      <Status state={list} what="Users">
        {(d) => props.canManage ? (
          <div class="table-wrap"><table>
            <thead><tr><th scope="col">E-mail</th><th scope="col">Name</th><th scope="col">Role</th><th scope="col">Extension</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
            <tbody>{d.users.map((u: any) => (
              <tr><td data-label="E-mail">{u.email}</td><td data-label="Name">{u.name}</td>
                <td data-label="Role"><label class="sr-only" for={`role-${u.id}`}>Role of {u.email}</label>
                  <select id={`role-${u.id}`} value={u.role} disabled={u.id === props.me.user.id}
                    onChange={(e) => change(u.id, { role: (e.target as HTMLSelectElement).value })}>
                    {ROLES.map((r) => <option value={r}>{r}</option>)}</select></td>
                <td data-label="Extension">{u.extension}</td>
                <td>{u.id !== props.me.user.id && <button class="link danger" onClick={() => remove(u.id)}>Remove</button>}</td></tr>))}
            </tbody></table></div>
        ) : <Table columns={[["email", "E-mail"], ["name", "Name"], ["role", "Role"], ["extension", "Extension"]]} rows={d.users} />}
      </Status>
      {props.canManage && (
        <form class="editor" onSubmit={add} aria-labelledby="add-user" noValidate>
          <h2 id="add-user">Add a user</h2>
          <TextField label="E-mail" name="email" type="email" value={form.email} onInput={set("email")} error={errors.email} />
          <TextField label="Name" name="name" value={form.name} onInput={set("name")} error={errors.name} />
          <Field label="Role" name="role" error={errors.role}>{(id, dsc) => (
            <select id={id} aria-describedby={dsc} value={form.role} onChange={(e) => set("role")((e.target as HTMLSelectElement).value)}>
              {ROLES.map((r) => <option value={r}>{r}</option>)}</select>)}</Field>
          <TextField label="Extension (for agents)" name="extension" value={form.extension} onInput={set("extension")} error={errors.extension} />
          <TextField label="Team" name="team" value={form.team} onInput={set("team")} error={errors.team} />
          <TextField label="First password" name="new-password" type="password" autoComplete="new-password" value={form.password}
            onInput={set("password")} error={errors.password} hint="at least 8 characters" />
          {errors._ && <p class="notice error" role="alert">{errors._}</p>}
          <button type="submit">Add user</button>
        </form>
      )}
    </Page>
  );
}
