/* ldseg report: draws each project's flag matrix from the embedded document, one page at a time
   (a project may hold 10,000 flags), with a filter by key or tag, a "show" selector and sortable
   columns. Text only (textContent): flag keys and tags are data, never markup. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("ldseg-report-data").textContent);
  var RANK = { on: 0, off: 1, archived: 2, unread: 3 };
  var LABEL = { on: "on", off: "off", archived: "archived", unread: "not read" };

  function pending(cell, want) {
    return want !== null && (cell === "on" || cell === "off") && want !== (cell === "on");
  }

  function fmt(n) { return n.toLocaleString("en-US"); }

  function cellNode(cell, want) {
    var td = document.createElement("td");
    var change = pending(cell, want);
    td.className = "c " + cell + (change ? " pending" : "");
    var text = LABEL[cell];
    var spoken = "";
    if (change) {
      text = cell + " \u2192 " + (want ? "on" : "off");
      spoken = ": apply turns export " + (want ? "on" : "off");
    } else if (want !== null && (cell === "on" || cell === "off")) {
      text += " \u2713";
      spoken = ", as the config wants";
    }
    td.appendChild(document.createTextNode(text));
    if (spoken) {
      var hidden = document.createElement("span");
      hidden.className = "sr-only";
      hidden.textContent = spoken;
      td.appendChild(hidden);
    }
    return td;
  }

  function Matrix(root, project) {
    var self = this;
    this.root = root;
    this.project = project;
    this.flags = project.flags.map(function (f) {
      var anyPending = false, anyOn = false;
      for (var i = 0; i < f.cells.length; i++) {
        if (pending(f.cells[i], f.config[i])) { anyPending = true; }
        if (f.cells[i] === "on") { anyOn = true; }
      }
      return { f: f, text: (f.key + " " + f.tags.join(" ")).toLowerCase(), pending: anyPending, on: anyOn };
    });
    this.query = "";
    this.show = "all";
    this.sort = "key";
    this.dir = 1;
    this.page = 0;
    this.size = parseInt(root.getAttribute("data-page-size"), 10) || 100;
    this.tbody = root.querySelector("tbody");
    this.status = root.querySelector(".status");
    this.pageLabel = root.querySelector(".page");
    this.view = this.flags;

    var filter = root.querySelector("input[name=filter]");
    filter.addEventListener("input", function () { self.query = filter.value.trim().toLowerCase(); self.refilter(); });
    var show = root.querySelector("select[name=show]");
    show.addEventListener("change", function () { self.show = show.value; self.refilter(); });
    var size = root.querySelector("select[name=size]");
    size.addEventListener("change", function () { self.size = parseInt(size.value, 10); self.page = 0; self.draw(); });
    root.querySelectorAll("th button[data-sort]").forEach(function (button) {
      button.addEventListener("click", function () { self.sortBy(button.getAttribute("data-sort")); });
    });
    root.querySelectorAll(".pager button").forEach(function (button) {
      button.addEventListener("click", function () { self.turn(button.getAttribute("data-page")); });
    });
  }

  Matrix.prototype.refilter = function () {
    // every word of the filter must be in the key or a tag: "checkout analytics" finds flags
    // whose key holds "checkout" and that are tagged analytics
    var terms = this.query ? this.query.split(/\s+/) : [], show = this.show;
    this.view = this.flags.filter(function (r) {
      if (terms.some(function (t) { return r.text.indexOf(t) < 0; })) { return false; }
      if (show === "pending") { return r.pending; }
      if (show === "exporting") { return r.on; }
      if (show === "nowhere") { return !r.on; }
      return true;
    });
    this.order();
    this.page = 0;
    this.draw();
  };

  Matrix.prototype.order = function () {
    var dir = this.dir, col = this.sort;
    var keyOrder = function (a, b) { return a.f.key < b.f.key ? -1 : a.f.key > b.f.key ? 1 : 0; };
    if (col === "key") {
      this.view.sort(function (a, b) { return keyOrder(a, b) * dir; });
      return;
    }
    var i = parseInt(col, 10);
    this.view.sort(function (a, b) {
      var ra = RANK[a.f.cells[i]] * 2 - (pending(a.f.cells[i], a.f.config[i]) ? 1 : 0);
      var rb = RANK[b.f.cells[i]] * 2 - (pending(b.f.cells[i], b.f.config[i]) ? 1 : 0);
      return ra !== rb ? (ra - rb) * dir : keyOrder(a, b);  // ties: by key, ascending either way
    });
  };

  Matrix.prototype.sortBy = function (col) {
    this.dir = this.sort === col ? -this.dir : 1;
    this.sort = col;
    var dir = this.dir;
    this.root.querySelectorAll("th button[data-sort]").forEach(function (button) {
      var th = button.parentNode;
      if (button.getAttribute("data-sort") === col) {
        th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
      } else {
        th.removeAttribute("aria-sort");
      }
    });
    this.order();
    this.page = 0;
    this.draw();
  };

  Matrix.prototype.pages = function () { return Math.max(1, Math.ceil(this.view.length / this.size)); };

  Matrix.prototype.turn = function (where) {
    var last = this.pages() - 1;
    this.page = where === "first" ? 0 : where === "last" ? last
      : where === "prev" ? Math.max(0, this.page - 1) : Math.min(last, this.page + 1);
    this.draw();
  };

  Matrix.prototype.draw = function () {
    var start = this.page * this.size;
    var rows = this.view.slice(start, start + this.size);
    var frag = document.createDocumentFragment();
    rows.forEach(function (r) {
      var f = r.f;
      var tr = document.createElement("tr");
      var th = document.createElement("th");
      th.scope = "row";
      var code = document.createElement("code");
      code.textContent = f.key;
      th.appendChild(code);
      tr.appendChild(th);
      var tags = document.createElement("td");
      tags.className = "tags";
      tags.textContent = f.tags.join(", ");
      tr.appendChild(tags);
      for (var i = 0; i < f.cells.length; i++) { tr.appendChild(cellNode(f.cells[i], f.config[i])); }
      frag.appendChild(tr);
    });
    this.tbody.replaceChildren(frag);
    var total = this.flags.length, shown = this.view.length;
    var what = shown === total ? fmt(total) + " flags" : fmt(shown) + " of " + fmt(total) + " flags match";
    this.status.textContent = shown ? what + "; showing " + fmt(start + 1) + "\u2013" + fmt(start + rows.length)
      : (total ? "No flag matches." : "No flags were read in this project.");
    this.pageLabel.textContent = "Page " + fmt(this.page + 1) + " of " + fmt(this.pages());
    var first = this.page === 0, last = this.page >= this.pages() - 1;
    this.root.querySelector("[data-page=first]").disabled = first;
    this.root.querySelector("[data-page=prev]").disabled = first;
    this.root.querySelector("[data-page=next]").disabled = last;
    this.root.querySelector("[data-page=last]").disabled = last;
  };

  document.querySelectorAll(".matrix[data-project]").forEach(function (root) {
    var m = new Matrix(root, data.projects[parseInt(root.getAttribute("data-project"), 10)]);
    m.draw();
  });
  // ready once the first frame with the tables is painted, not merely when this script ends
  requestAnimationFrame(function () {
    requestAnimationFrame(function () {
      document.documentElement.setAttribute("data-ready", String(Math.round(performance.now())));
    });
  });
})();
