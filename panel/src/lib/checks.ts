/** Checks the panel makes before sending a form (the server checks again and has the last word). */

/** Mirrors the server's shortest password. */
export const MIN_PASSWORD = 10;

/** What is wrong with a new operator's details, or null; `who` names the field ("your name", "a name"). */
export function checkNewOperator(name: string, email: string, password: string, who: string): string | null {
  if (!name.trim()) return `Please enter ${who}.`;
  if (!/^[^\s@]+@[^\s@]+$/.test(email.trim())) return "Please enter a valid email address.";
  if (password.length < MIN_PASSWORD) return `The password needs at least ${MIN_PASSWORD} characters.`;
  return null;
}
