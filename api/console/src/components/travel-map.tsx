// A small map of where a review's two addresses are: Natural Earth's land outlines (world-atlas,
// 1:110m, bundled), a graticule, both places marked A and B and the great circle between them,
// framed on the pair. Drawn as SVG by d3-geo; nothing is fetched from another origin (the
// console's CSP allows none). Loaded in a chunk of its own when a review with a located
// address opens, so the queue's own chunk stays small.
import { geoCircle, geoDistance, geoGraticule10, geoInterpolate, geoNaturalEarth1, geoPath } from 'd3-geo';
import { feature } from 'topojson-client';
import land110m from 'world-atlas/land-110m.json';

export interface MapPlace {
  /** "A" or "B": the mark on the map and beside the place's card. */
  mark: string;
  name: string;
  lon: number;
  lat: number;
}

const LAND = feature(land110m, land110m.objects.land);
const GRATICULE = geoGraticule10();

const WIDTH = 480;
const HEIGHT = 260;
const PAD = 14;
const RADIANS_TO_DEGREES = 180 / Math.PI;

/**
 * The view: the projection turned to the great circle's midpoint (so the line never breaks at
 * the antimeridian), framed on the line and a region around each place (wider the farther
 * apart they are), so both places show with land enough around them to say where they are.
 */
function projectionFor(places: MapPlace[]) {
  const ends = places.map((p): [number, number] => [p.lon, p.lat]);
  const [a, b] = ends;
  const centre = a && b ? geoInterpolate(a, b)(0.5) : (a ?? [0, 0]);
  const apart = a && b ? geoDistance(a, b) * RADIANS_TO_DEGREES : 0;
  const around = Math.max(apart * 0.15, 5);
  const frame = {
    type: 'GeometryCollection' as const,
    geometries: [
      ...(a && b ? [{ type: 'LineString' as const, coordinates: [a, b] }] : []),
      ...ends.map((end) => geoCircle().center(end).radius(around)()),
    ],
  };
  return geoNaturalEarth1()
    .rotate([-centre[0], 0])
    .fitExtent(
      [
        [PAD, PAD],
        [WIDTH - PAD, HEIGHT - PAD],
      ],
      frame,
    )
    .clipExtent([
      [0, 0],
      [WIDTH, HEIGHT],
    ]);
}

export function TravelMap(props: { places: MapPlace[]; title: string }) {
  const projection = projectionFor(props.places);
  const path = geoPath(projection);
  const [a, b] = props.places;
  return (
    <svg
      class="travel-map"
      viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
      role="img"
      aria-labelledby="travel-map-title"
      data-places={props.places.length}
    >
      <title id="travel-map-title">{props.title}</title>
      <rect class="sea" x="0" y="0" width={WIDTH} height={HEIGHT} />
      <path class="graticule" d={path(GRATICULE) ?? ''} />
      <path class="land" d={path(LAND) ?? ''} />
      {a && b && (
        <path
          class="route"
          d={
            path({
              type: 'LineString',
              coordinates: [
                [a.lon, a.lat],
                [b.lon, b.lat],
              ],
            }) ?? ''
          }
        />
      )}
      {props.places.map((p) => {
        const xy = projection([p.lon, p.lat]);
        if (!xy) return null;
        return (
          <g key={p.mark} class={`mark mark-${p.mark.toLowerCase()}`} transform={`translate(${xy[0]},${xy[1]})`}>
            <circle r="9" />
            <text dy="4">{p.mark}</text>
          </g>
        );
      })}
    </svg>
  );
}
