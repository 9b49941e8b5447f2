"""The scenario drawn as the NIST conceptual model figure, as inline SVG.

NIST SP 1108 Figure 3-1 puts the three information domains across the top
(Markets, Operations, Service Provider) and the four domains power flows
through along the bottom (Bulk Generation, Transmission, Distribution,
Customer). The same regions are drawn here with the scenario's actors inside
their domain; electrical associations are solid yellow-orange lines and
communication associations dashed blue lines, as in the figure. Hovering a
box or a line shows the actor's role or the association's label.

Plain SVG without scripts, so it shows in any browser, offline, and prints.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

from ..nist import AssociationKind, Domain, SmartGridModel

TOP_ROW = (Domain.MARKETS, Domain.OPERATIONS, Domain.SERVICE_PROVIDER)
BOTTOM_ROW = (Domain.BULK_GENERATION, Domain.TRANSMISSION, Domain.DISTRIBUTION, Domain.CUSTOMER)

# (fill, outline) per domain: pastel versions of the NIST figure's colours.
DOMAIN_COLOURS = {
    Domain.MARKETS: ("#d3e2f6", "#2a5ea8"),
    Domain.OPERATIONS: ("#d5eef8", "#1b86b3"),
    Domain.SERVICE_PROVIDER: ("#e6def3", "#6a4fa0"),
    Domain.BULK_GENERATION: ("#fde7c2", "#d9822b"),
    Domain.TRANSMISSION: ("#d9efe2", "#2e8b57"),
    Domain.DISTRIBUTION: ("#fff4c4", "#b89500"),
    Domain.CUSTOMER: ("#e4f1cf", "#5f8f25"),
}
ELECTRICAL_STYLE = 'stroke="#f29d0b" stroke-width="3.5"'
COMMUNICATION_STYLE = 'stroke="#1f6fc5" stroke-width="1.6" stroke-dasharray="7 5"'

WIDTH = 1200.0
MARGIN = 20.0
ROW_GAP = 90.0
HEADER = 30.0
BOX_W, BOX_H, BOX_GAP = 128.0, 34.0, 12.0


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def centre(self) -> tuple[float, float]:
        return self.x + self.w / 2, self.y + self.h / 2

    def edge_towards(self, px: float, py: float) -> tuple[float, float]:
        """Where the line from the centre to (px, py) leaves the box, so lines end at box edges."""
        cx, cy = self.centre
        dx, dy = px - cx, py - cy
        if dx == 0 and dy == 0:
            return cx, cy
        scale = min(self.w / 2 / abs(dx) if dx else math.inf, self.h / 2 / abs(dy) if dy else math.inf)
        return cx + dx * scale, cy + dy * scale


def domain_diagram(model: SmartGridModel) -> str:
    """The ``<svg>`` element of the scenario's domains, actors and associations."""
    regions, actor_boxes, height = _layout(model)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="nist-diagram" viewBox="0 0 {WIDTH:g} {height:g}" '
        f'width="100%" role="img" aria-label="NIST conceptual model of the scenario">',
        "<title>Domains, actors and associations of the scenario (NIST Smart Grid Conceptual Model)</title>",
    ]
    for domain, box in regions.items():
        fill, outline = DOMAIN_COLOURS[domain]
        parts.append(
            f'<g class="domain" data-domain="{escape(domain.value)}"><rect x="{box.x:g}" y="{box.y:g}" width="{box.w:g}" '
            f'height="{box.h:g}" rx="14" fill="{fill}" stroke="{outline}" stroke-width="2"/>'
            f'<text x="{box.x + 12:g}" y="{box.y + 21:g}" font-size="15" font-weight="bold" fill="{outline}">{escape(domain.value)}</text>'
        )
        if not model.actors_in(domain):
            parts.append(f'<text x="{box.x + 12:g}" y="{box.y + 48:g}" font-size="12" fill="#777">no actors</text>')
        parts.append("</g>")
    for association in model.associations:
        a, b = actor_boxes.get(association.source), actor_boxes.get(association.target)
        if a is None or b is None:
            continue
        x1, y1 = a.edge_towards(*b.centre)
        x2, y2 = b.edge_towards(*a.centre)
        electrical = association.kind is AssociationKind.ELECTRICAL
        style = ELECTRICAL_STYLE if electrical else COMMUNICATION_STYLE
        label = f"{association.source} \u2194 {association.target} ({association.kind.value})"
        if association.label:
            label += f": {association.label}"
        parts.append(
            f'<line class="association {association.kind.value}" x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
            f'{style} stroke-linecap="round"><title>{escape(label)}</title></line>'
        )
    for actor in model.actors:
        box = actor_boxes[actor.actor_id]
        _, outline = DOMAIN_COLOURS[actor.domain]
        name = actor.actor_id if len(actor.actor_id) <= 18 else actor.actor_id[:17] + "\u2026"
        tip = f"{actor.actor_id}: {actor.role}"
        if actor.segment is not None:
            tip += f" ({actor.segment.value})"
        parts.append(
            f'<g class="actor" data-actor="{escape(actor.actor_id)}"><title>{escape(tip)}</title>'
            f'<rect x="{box.x:g}" y="{box.y:g}" width="{box.w:g}" height="{box.h:g}" rx="6" fill="#fff" stroke="{outline}" stroke-width="1.5"/>'
            f'<text x="{box.x + box.w / 2:g}" y="{box.y + 22:g}" font-size="12" text-anchor="middle" fill="#222">{escape(name)}</text></g>'
        )
    parts.append(_legend(height))
    parts.append("</svg>")
    return "\n".join(parts)


def _layout(model: SmartGridModel) -> tuple[dict[Domain, Box], dict[str, Box], float]:
    """Regions in two rows sized to their actors; actors in a grid inside their region."""
    regions: dict[Domain, Box] = {}
    actor_boxes: dict[str, Box] = {}
    y = MARGIN
    for row in (TOP_ROW, BOTTOM_ROW):
        region_w = (WIDTH - 2 * MARGIN - (len(row) - 1) * MARGIN) / len(row)
        columns = max(1, int((region_w - BOX_GAP) // (BOX_W + BOX_GAP)))
        rows_needed = max(math.ceil(len(model.actors_in(d)) / columns) for d in row)
        row_h = max(110.0, HEADER + 12 + rows_needed * (BOX_H + BOX_GAP) + 6)
        for i, domain in enumerate(row):
            x = MARGIN + i * (region_w + MARGIN)
            regions[domain] = Box(x, y, region_w, row_h)
            actors = model.actors_in(domain)
            used = min(columns, len(actors)) or 1
            left = x + (region_w - used * BOX_W - (used - 1) * BOX_GAP) / 2
            for k, actor in enumerate(actors):
                col, line = k % columns, k // columns
                actor_boxes[actor.actor_id] = Box(left + col * (BOX_W + BOX_GAP), y + HEADER + 12 + line * (BOX_H + BOX_GAP), BOX_W, BOX_H)
        y += row_h + ROW_GAP
    return regions, actor_boxes, y - ROW_GAP + 50


def _legend(height: float) -> str:
    y = height - 22
    return (
        f'<g class="legend" font-size="12" fill="#333">'
        f'<line x1="{MARGIN:g}" y1="{y:g}" x2="{MARGIN + 40:g}" y2="{y:g}" {ELECTRICAL_STYLE}/>'
        f'<text x="{MARGIN + 48:g}" y="{y + 4:g}">electrical association (energy flow)</text>'
        f'<line x1="{MARGIN + 300:g}" y1="{y:g}" x2="{MARGIN + 340:g}" y2="{y:g}" {COMMUNICATION_STYLE}/>'
        f'<text x="{MARGIN + 348:g}" y="{y + 4:g}">communication association (information flow)</text></g>'
    )
