/** The team list on the Operators page. */
import { createStore } from "solid-js/store";
import type { Operator } from "../../../worker/protocol";
import { api, errorText } from "../lib/api";

export interface OperatorsState {
  phase: "loading" | "ready" | "error";
  operators: Operator[];
  error: string | null;
}

export interface OperatorsActions {
  load(): Promise<void>;
  /** Throws the server's error for the form to show. */
  add(input: { name: string; email: string; password: string; admin: boolean }): Promise<Operator>;
  remove(id: string): Promise<void>;
  /** Signs an operator out everywhere; returns how many sessions ended. */
  endSessions(id: string): Promise<number>;
}

const byName = (a: Operator, b: Operator) => a.name.localeCompare(b.name);

export function createOperators(): [OperatorsState, OperatorsActions] {
  const [state, setState] = createStore<OperatorsState>({ phase: "loading", operators: [], error: null });
  const actions: OperatorsActions = {
    async load() {
      try {
        const { operators } = await api.operators();
        setState({ phase: "ready", operators: [...operators].sort(byName), error: null });
      } catch (e) {
        setState({ phase: "error", error: errorText(e) });
      }
    },
    async add(input) {
      const { operator } = await api.addOperator(input);
      setState("operators", (list) => [...list.filter((o) => o.id !== operator.id), operator].sort(byName));
      return operator;
    },
    async endSessions(id) {
      return (await api.endSessions(id)).ended;
    },
    async remove(id) {
      await api.removeOperator(id);
      setState("operators", (list) => list.filter((o) => o.id !== id));
    },
  };
  return [state, actions];
}
