/** Panel entry: mounts the app into #root. */
// First: the requests the first screen waits for leave before the rest of the script is evaluated.
import "./lib/boot";
import { render } from "solid-js/web";
import { App } from "./app";
import "./styles.css";

const root = document.getElementById("root");
if (!root) throw new Error("#root is missing from index.html");
render(() => <App />, root);
