// A square drawing pad for Streamlit (custom component v2): black ink on white, pointer events (mouse,
// pen, touch). Python keeps the strokes: each finished stroke is sent as a trigger ("stroke": [[x, y], ...]
// in pad pixels) and every render draws the strokes Python passes back (so Undo and Clear are Python's).
export default function ({ parentElement, data, setTriggerValue }) {
  const canvas = parentElement.querySelector("canvas");
  const { size, width, strokes, label } = data;
  const ctx = canvas.getContext("2d");
  canvas.width = size;
  canvas.height = size;
  canvas.setAttribute("aria-label", label);
  const ink = () => {
    ctx.strokeStyle = "#000";
    ctx.fillStyle = "#000";
    ctx.lineWidth = width;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
  };
  const dot = ([x, y]) => {
    ctx.beginPath();
    ctx.arc(x, y, width / 2, 0, 2 * Math.PI);
    ctx.fill();
  };
  const line = (points) => {
    ctx.beginPath();
    ctx.moveTo(points[0][0], points[0][1]);
    for (const [x, y] of points.slice(1)) ctx.lineTo(x, y);
    ctx.stroke();
  };
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, size, size);
  ink();
  for (const s of strokes) (s.length === 1 ? dot(s[0]) : line(s));

  let current = null;
  const at = (e) => {
    const r = canvas.getBoundingClientRect();
    const x = Math.round(((e.clientX - r.left) * size) / r.width);
    const y = Math.round(((e.clientY - r.top) * size) / r.height);
    return [Math.min(size, Math.max(0, x)), Math.min(size, Math.max(0, y))];
  };
  const down = (e) => {
    e.preventDefault();
    canvas.setPointerCapture(e.pointerId);
    current = [at(e)];
    ink();
    dot(current[0]);
  };
  const move = (e) => {
    if (!current) return;
    const p = at(e);
    line([current[current.length - 1], p]);
    current.push(p);
  };
  const up = () => {
    if (!current) return;
    const stroke = current;
    current = null;
    setTriggerValue("stroke", stroke);
  };
  canvas.addEventListener("pointerdown", down);
  canvas.addEventListener("pointermove", move);
  canvas.addEventListener("pointerup", up);
  canvas.addEventListener("pointercancel", up);
  return () => {
    canvas.removeEventListener("pointerdown", down);
    canvas.removeEventListener("pointermove", move);
    canvas.removeEventListener("pointerup", up);
    canvas.removeEventListener("pointercancel", up);
  };
}
