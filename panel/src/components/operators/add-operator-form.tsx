/** Operators > Add an operator: name, email, a first password and whether they are an admin. */
import { createSignal } from "solid-js";
import type { Operator } from "../../../../worker/protocol";
import { createAction } from "../../lib/async";
import { checkNewOperator, MIN_PASSWORD } from "../../lib/checks";
import { Field } from "../field";
import { FormLines } from "../settings/settings-card";

type NewOperator = { name: string; email: string; password: string; admin: boolean };

export function AddOperatorForm(props: { onAdd: (input: NewOperator) => Promise<Operator> }) {
  const [name, setName] = createSignal("");
  const [email, setEmail] = createSignal("");
  const [password, setPassword] = createSignal("");
  const [admin, setAdmin] = createSignal(false);
  const [done, setDone] = createSignal<string | null>(null);
  const add = createAction(async (input: NewOperator) => {
    const op = await props.onAdd(input);
    setName("");
    setEmail("");
    setPassword("");
    setAdmin(false);
    setDone(`${op.name} was added.`);
  });

  const submit = (e: SubmitEvent) => {
    e.preventDefault();
    if (add.busy()) return;
    setDone(null);
    const wrong = checkNewOperator(name(), email(), password(), "a name");
    if (wrong) return add.setError(wrong);
    void add.run({ name: name().trim(), email: email().trim(), password: password(), admin: admin() });
  };

  return (
    <form
      class="card add-operator"
      onSubmit={submit}
      aria-labelledby="add-title"
      data-testid="add-operator-form"
      novalidate
    >
      <h2 id="add-title" class="card-title">
        Add an operator
      </h2>
      <FormLines error={add.error()} notice={done()} />
      <Field label="Name" name="name" autocomplete="off" maxLength={80} value={name()} onValue={setName} />
      <Field label="Email" type="email" name="email" autocomplete="off" value={email()} onValue={setEmail} />
      <Field
        label="Password"
        type="password"
        name="password"
        autocomplete="new-password"
        hintId="add-password-hint"
        hint={<>At least {MIN_PASSWORD} characters. Share it with them privately.</>}
        value={password()}
        onValue={setPassword}
      />
      <label class="checkbox">
        <input type="checkbox" name="admin" checked={admin()} onChange={(e) => setAdmin(e.currentTarget.checked)} />
        <span>Admin (can manage operators)</span>
      </label>
      <button type="submit" class="button primary" disabled={add.busy()}>
        {add.busy() ? "Adding…" : "Add operator"}
      </button>
    </form>
  );
}
