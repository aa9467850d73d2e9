// Drawing on a frame: pen, arrow, box and text on a <canvas> over the image. Shapes are vector
// data with coordinates normalised to the frame (0..1 from the top left), so a note drawn on a
// laptop lands on the same spot on a projector, and the server stores them as they are.

export class Annotator {
  constructor(canvas) {
    this.canvas = canvas;
    this.context = canvas.getContext("2d");
    this.tool = "pen";
    this.colour = "#ff3b30";
    this.width = 0.004;
    this.pending = []; // drawn, not saved yet
    this.saved = []; // shapes of notes already saved on this frame
    this.current = null;
    canvas.addEventListener("pointerdown", (e) => this.#down(e));
    canvas.addEventListener("pointermove", (e) => this.#move(e));
    canvas.addEventListener("pointerup", (e) => this.#up(e));
    canvas.addEventListener("pointercancel", () => { this.current = null; this.render(); });
  }

  // Match the canvas to where the frame is shown (in device pixels, so lines stay sharp).
  fit(image) {
    const box = image.getBoundingClientRect();
    const parent = this.canvas.offsetParent?.getBoundingClientRect() ?? box;
    Object.assign(this.canvas.style, {
      left: `${box.left - parent.left}px`, top: `${box.top - parent.top}px`,
      width: `${box.width}px`, height: `${box.height}px`,
    });
    const scale = window.devicePixelRatio || 1;
    this.canvas.width = Math.max(1, Math.round(box.width * scale));
    this.canvas.height = Math.max(1, Math.round(box.height * scale));
    this.render();
  }

  show(saved) {
    this.saved = saved;
    this.render();
  }

  clear() {
    this.pending = [];
    this.current = null;
    this.render();
  }

  #point(event) {
    const box = this.canvas.getBoundingClientRect();
    const round = (v) => Math.round(v * 10000) / 10000;
    return [round((event.clientX - box.left) / box.width), round((event.clientY - box.top) / box.height)];
  }

  #down(event) {
    event.preventDefault();
    const at = this.#point(event);
    if (this.tool === "text") {
      const words = window.prompt("Text on the frame");
      if (words) this.pending.push({ tool: "text", points: [at], colour: this.colour, width: this.width, text: words.slice(0, 500) });
      this.render();
      return;
    }
    this.canvas.setPointerCapture(event.pointerId);
    this.current = { tool: this.tool, points: [at, at], colour: this.colour, width: this.width };
    if (this.tool === "pen") this.current.points = [at];
  }

  #move(event) {
    if (!this.current) return;
    const at = this.#point(event);
    if (this.current.tool === "pen") {
      if (this.current.points.length < 4000) this.current.points.push(at);
    } else {
      this.current.points[1] = at;
    }
    this.render();
  }

  #up(event) {
    if (!this.current) return;
    this.#move(event);
    this.pending.push(this.current);
    this.current = null;
    this.render();
  }

  render() {
    const { context: g, canvas } = this;
    g.clearRect(0, 0, canvas.width, canvas.height);
    for (const shape of [...this.saved, ...this.pending, ...(this.current ? [this.current] : [])]) {
      drawShape(g, shape, canvas.width, canvas.height);
    }
  }
}

export function drawShape(g, shape, w, h) {
  const pts = shape.points.map(([x, y]) => [x * w, y * h]);
  g.strokeStyle = g.fillStyle = shape.colour;
  g.lineWidth = Math.max(1, shape.width * w);
  g.lineCap = g.lineJoin = "round";
  g.beginPath();
  if (shape.tool === "pen") {
    pts.forEach(([x, y], i) => (i ? g.lineTo(x, y) : g.moveTo(x, y)));
    g.stroke();
  } else if (shape.tool === "box") {
    const [[x0, y0], [x1, y1]] = [pts[0], pts[pts.length - 1]];
    g.strokeRect(Math.min(x0, x1), Math.min(y0, y1), Math.abs(x1 - x0), Math.abs(y1 - y0));
  } else if (shape.tool === "arrow") {
    const [[x0, y0], [x1, y1]] = [pts[0], pts[pts.length - 1]];
    const angle = Math.atan2(y1 - y0, x1 - x0), head = Math.max(8, g.lineWidth * 4);
    g.moveTo(x0, y0); g.lineTo(x1, y1);
    g.moveTo(x1, y1); g.lineTo(x1 - head * Math.cos(angle - 0.5), y1 - head * Math.sin(angle - 0.5));
    g.moveTo(x1, y1); g.lineTo(x1 - head * Math.cos(angle + 0.5), y1 - head * Math.sin(angle + 0.5));
    g.stroke();
  } else if (shape.tool === "text") {
    g.font = `${Math.max(12, Math.round(h * 0.05))}px sans-serif`;
    g.fillText(shape.text ?? "", pts[0][0], pts[0][1]);
  }
}
