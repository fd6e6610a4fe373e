// Building DOM nodes in one call: el("button", {class: "btn", type: "button", onclick: go}, "Apply").
// Attributes named on* become listeners, true is an empty attribute, false/null/undefined are left out;
// children may be nodes, strings or arrays of them.

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child);
  return node;
}
