"""Compilation of the ADQL geometry functions.

A mixin of :class:`adql.compiler.Compiler`.  Geometry values are
``double precision[]`` in SQL (point [ra, dec], circle [ra, dec, r], polygon
[ra1, dec1, ra2, dec2, ...]; BOX becomes its polygon); MOCs are ``bigint[]``
of depth-29 ranges.  The shape is almost always known statically, so the
translator picks the specific SQL function; the exception is a region column
(STC-S text such as ObsCore ``s_region``, ``catalog.RegionColumn``): its stored
geometry is a circle or a polygon, and the ``adql_dali_*`` functions tell them
apart by length.  Predicates on a table's indexed position or on an indexed
region column with a constant region get the spatial compiler's index
prefilter ANDed in.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

from sqlglot import exp

from adql import geometry as geo
from adql.expressions import string_literal
from adql.functions import FunctionSpec
from adql.scope import Scope, Source
from adql.spatial import Circle, IndexedFootprint, IndexedPosition, Moc, NamedRegion, Polygon, Region
from adql.values import (
    GEOMETRY,
    INTEGER_TYPES,
    LOOSE,
    NUMBER,
    PREDICATE,
    STRING,
    UNKNOWN,
    DistanceCall,
    Geometry,
    SpatialTest,
    Value,
)

if TYPE_CHECKING:
    from adql.compiler import Compiler

_ARRAYSIZE = {"point": "2", "circle": "3", "polygon": "*"}
_DEG = "deg"


def _array(parts: list[str]) -> str:
    return f"CAST(ARRAY[{', '.join(parts)}] AS double precision[])"


def _const_array(values: list[float]) -> str:
    return "CAST('{" + ",".join(repr(float(v)) for v in values) + "}' AS double precision[])"


def geometry_array(g: Geometry) -> str:
    """The geometry as a DALI-ordered double precision[] (NULL if a part is NULL)."""
    if g.shape == "point":
        return f"adql_point({', '.join(g.parts)})"
    if g.shape == "circle":
        return f"adql_circle({', '.join(g.parts)})"
    return g.parts[0]


def kind_sql(g: Geometry) -> str:
    """SQL text of the shape name the adql_region_* functions take."""
    if g.shape == "region":
        return f"adql_dali_kind({g.parts[0]})"
    return f"'{g.shape}'"


def _constant_region(g: Geometry) -> Region | None:
    """The constant region of ``g`` for an index request (a point is a circle of radius 0)."""
    if g.region is not None:
        return g.region
    if g.shape == "point" and g.point is not None:
        return Circle(g.point[0], g.point[1], 0.0)
    return None


def geometry_value(g: Geometry, aggregate: bool = False) -> Value:
    if g.shape == "named":
        return Value("NULL", GEOMETRY, geometry=g, aggregate=aggregate, name="region")
    if g.shape == "moc":
        text = g.moc_ascii or ""
        return Value("'" + text + "'", GEOMETRY, "char", "*", "moc", geometry=g, aggregate=aggregate)
    return Value(geometry_array(g), GEOMETRY, "double", _ARRAYSIZE[g.shape], g.shape, geometry=g,
                 aggregate=aggregate)


class GeometryCompiler:
    """Geometry functions; see the module docstring."""

    def column_geometry(self: Compiler, value: Value, node: exp.Expr) -> Geometry:
        shape = (value.xtype or "").lower()
        if shape == "point":
            return Geometry("point", (f"({value.sql})[1]", f"({value.sql})[2]"))
        if shape == "circle":
            return Geometry("circle", (f"({value.sql})[1]", f"({value.sql})[2]", f"({value.sql})[3]"))
        if shape == "polygon":
            return Geometry("polygon", (value.sql,))
        return Geometry("moc", (value.sql,))

    def region_column_geometry(self: Compiler, source: Source | None, column: str) -> Geometry | None:
        """The stored geometry of a region column of ``source``'s table (None
        if the column is not one), with its footprint index if it has one."""
        table = source.table if source is not None else None
        region = table.region_column(column) if table is not None else None
        if region is None:
            return None
        footprint = None
        if region.footprint_index is not None and region.key_column is not None:
            footprint = IndexedFootprint(region.footprint_index, source.column_sql(region.key_column))
        return Geometry("region", (source.column_sql(region.geometry_column),), footprint=footprint)

    def _footprint_prefilter(self: Compiler, g: Geometry, other: Region | None) -> str | None:
        """Index prefilter for a region column ``g`` against a constant region (either may be absent)."""
        if g.footprint is None or other is None:
            return None
        method = getattr(self.spatial, "footprint_prefilter", None)  # optional in the protocol
        return method(g.footprint, other) if method is not None else None

    # -------------------------------------------------------------- helpers
    def _numbers(self: Compiler, args: list[exp.Expr], scope: Scope, what: str) -> list[Value]:
        values = []
        for arg in args:
            value = self.expr(arg, scope)
            if value.kind not in (NUMBER, *LOOSE):
                raise self.fail(f"{what} must be numeric, not {value.kind}", arg)
            values.append(value)
        return values

    def _strip_coordsys(self: Compiler, name: str, args: list[exp.Expr], scope: Scope) -> list[exp.Expr]:
        if args and isinstance(args[0], exp.Literal) and args[0].is_string:
            try:
                geo.check_coordsys(args[0].this)
            except Exception as err:
                raise self.fail(err.message, args[0]) from None  # type: ignore[attr-defined]
            return args[1:]
        if args:
            first = self.expr(args[0], scope)
            if first.kind == STRING:
                raise self.fail(f"the coordinate system of {name} must be a string literal", args[0])
        return args

    def _point_of(self: Compiler, value: Value, node: exp.Expr, what: str) -> Geometry:
        if value.kind in LOOSE:
            return Geometry("point", (f"({value.sql})[1]", f"({value.sql})[2]"))
        if value.kind != GEOMETRY or value.geometry is None or value.geometry.shape != "point":
            raise self.fail(f"{what} must be a point", node)
        return value.geometry

    def _make_point(self: Compiler, ra: Value, dec: Value, node: exp.Expr) -> Geometry:
        point = None
        if isinstance(ra.const, int | float) and isinstance(dec.const, int | float):
            try:
                geo.check_position(float(ra.const), float(dec.const), "POINT")
            except Exception as err:
                raise self.fail(str(getattr(err, "message", err)), node) from None
            point = (float(ra.const), float(dec.const))
        return Geometry("point", (ra.sql, dec.sql), point=point, position=self._indexed_position(ra, dec))

    def _indexed_position(self: Compiler, ra: Value, dec: Value) -> IndexedPosition | None:
        ra_source, dec_source = ra.extras.get("source"), dec.extras.get("source")
        if ra_source is None or ra_source is not dec_source:
            return None
        table = ra_source.table
        if table is None or table.position is None or table.hpx_column is None:
            return None
        if (ra.extras.get("column"), dec.extras.get("column")) != tuple(table.position):
            return None
        return IndexedPosition(ra.sql, dec.sql, ra_source.column_sql(table.hpx_column))

    def _geometry_arg(self: Compiler, node: exp.Expr, scope: Scope, what: str) -> Geometry:
        value = self.expr(node, scope)
        if value.kind in LOOSE:
            return Geometry("polygon", (value.sql,))
        if value.kind != GEOMETRY or value.geometry is None:
            raise self.fail(f"{what} must be a geometry (POINT, CIRCLE, BOX, POLYGON, ...), not {value.kind}",
                            node)
        return value.geometry

    # ------------------------------------------------------------- dispatch
    def geometry_function(self: Compiler, spec: FunctionSpec, args: list[exp.Expr], node: exp.Expr,
                          scope: Scope) -> Value:
        name = spec.name
        if name == "POINT":
            return geometry_value(self.point_function(args, node, scope))
        if name == "CIRCLE":
            return geometry_value(self.circle_function(args, node, scope))
        if name == "BOX":
            return geometry_value(self.box_function(args, node, scope))
        if name == "POLYGON":
            return geometry_value(self.polygon_function(args, node, scope))
        if name == "REGION":
            return geometry_value(self.region_function(args, node, scope))
        if name == "MOC":
            return geometry_value(self.moc_function(args, node, scope))
        if name == "CENTROID":
            return geometry_value(self.centroid(self._geometry_arg(args[0], scope, "the argument of CENTROID"),
                                                node))
        if name in ("COORD1", "COORD2"):
            point = self._point_of(self.expr(args[0], scope), args[0], f"the argument of {name}")
            index = 0 if name == "COORD1" else 1
            const = point.point[index] if point.point is not None else None
            value = Value(point.parts[index], NUMBER, "double", info=_deg_info(name.lower()))
            return value if const is None else Value(value.sql, NUMBER, "double", info=value.info, const=const)
        if name == "COORDSYS":
            self._geometry_arg(args[0], scope, "the argument of COORDSYS")
            return Value("'ICRS'", STRING, "char", "*", const="ICRS")
        if name == "AREA":
            return self.area(self._geometry_arg(args[0], scope, "the argument of AREA"), node)
        if name == "DISTANCE":
            return self.distance(args, node, scope)
        if name in ("CONTAINS", "INTERSECTS"):
            return self.spatial_predicate(name, args, node, scope)
        if name == "IVO_HEALPIX_CENTER":
            order, index = self._numbers(args, scope, "an argument of ivo_healpix_center")
            self._check_order(order, args[0])
            call = f"adql_healpix_center({order.sql}, {index.sql})"
            return geometry_value(Geometry("point", (f"({call})[1]", f"({call})[2]")))
        if name == "GW_REGION":
            return geometry_value(self.gw_region(args, node, scope))
        if name in ("GW_PROBDENSITY", "GW_CREDIBLE_LEVEL"):
            return self.gw_value(name, args, node, scope)
        if name == "IVO_EPOCH_PROP_POS":
            values = self._numbers(args, scope, "an argument of ivo_epoch_prop_pos")
            call = f"adql_epoch_prop_pos({', '.join(v.sql for v in values)})"
            return geometry_value(Geometry("point", (f"({call})[1]", f"({call})[2]")))
        raise self.fail(f"{name} is not supported", node)  # pragma: no cover - registry and code agree

    # --------------------------------------------------------- constructors
    def point_function(self: Compiler, args: list[exp.Expr], node: exp.Expr, scope: Scope) -> Geometry:
        args = self._strip_coordsys("POINT", args, scope)
        if len(args) != 2:
            raise self.fail(f"POINT takes a coordinate system and two coordinates, got {len(args)} coordinates",
                            node)
        ra, dec = self._numbers(args, scope, "a coordinate of POINT")
        return self._make_point(ra, dec, node)

    def _centre_and_sizes(self: Compiler, name: str, args: list[exp.Expr], sizes: int, node: exp.Expr,
                          scope: Scope) -> tuple[Geometry, list[Value]]:
        args = self._strip_coordsys(name, args, scope)
        if len(args) == sizes + 2:
            ra, dec = self._numbers(args[:2], scope, f"a coordinate of {name}")
            centre = self._make_point(ra, dec, node)
        elif len(args) == sizes + 1:
            centre = self._point_of(self.expr(args[0], scope), args[0], f"the centre of {name}")
        else:
            raise self.fail(f"{name} takes a centre (two coordinates or a point) and {sizes} size(s), "
                            f"got {len(args)} arguments", node)
        return centre, self._numbers(args[-sizes:], scope, f"a size of {name}")

    def circle_function(self: Compiler, args: list[exp.Expr], node: exp.Expr, scope: Scope) -> Geometry:
        centre, (radius,) = self._centre_and_sizes("CIRCLE", args, 1, node, scope)
        region = None
        radius_value = None
        if isinstance(radius.const, int | float):
            radius_value = float(radius.const)
            try:
                geo.check_radius(float(radius.const))
            except Exception as err:
                raise self.fail(err.message, node) from None  # type: ignore[attr-defined]
            if centre.point is not None:
                region = Circle(centre.point[0], centre.point[1], float(radius.const))
        return Geometry("circle", (centre.parts[0], centre.parts[1], radius.sql), region=region,
                        point=centre.point, position=centre.position, radius=radius_value)

    def box_function(self: Compiler, args: list[exp.Expr], node: exp.Expr, scope: Scope) -> Geometry:
        centre, (width, height) = self._centre_and_sizes("BOX", args, 2, node, scope)
        if centre.point is not None and isinstance(width.const, int | float) and isinstance(height.const,
                                                                                            int | float):
            try:
                vertices = geo.box_vertices(centre.point[0], centre.point[1], float(width.const),
                                            float(height.const))
            except Exception as err:
                raise self.fail(err.message, node) from None  # type: ignore[attr-defined]
            return self._constant_polygon(vertices)
        for size in (width, height):
            if isinstance(size.const, int | float) and not 0 < size.const < 180:
                raise self.fail("box width and height must be greater than 0 and less than 180 degrees", node)
        call = f"adql_box({centre.parts[0]}, {centre.parts[1]}, {width.sql}, {height.sql})"
        return Geometry("polygon", (call,))

    def _constant_polygon(self: Compiler, vertices: tuple[tuple[float, float], ...]) -> Geometry:
        flat = [c for vertex in vertices for c in vertex]
        return Geometry("polygon", (_const_array(flat),), region=Polygon(tuple(vertices)))

    def polygon_function(self: Compiler, args: list[exp.Expr], node: exp.Expr, scope: Scope) -> Geometry:
        args = self._strip_coordsys("POLYGON", args, scope)
        values = [self.expr(arg, scope) for arg in args]
        if len(values) >= 3 and all(v.kind == UNKNOWN for v in values):
            return Geometry("polygon", (f"adql_polygon_ccw({_array([v.sql for v in values])})",))
        if values and all(v.kind == GEOMETRY or v.kind in LOOSE for v in values) and any(
            v.kind == GEOMETRY for v in values
        ):
            points = [self._point_of(v, a, "a vertex of POLYGON") for v, a in zip(values, args, strict=True)]
            if len(points) < 3:
                raise self.fail(f"a polygon needs at least 3 vertices, got {len(points)}", node)
            coords = [part for p in points for part in p.parts]
            constants = [p.point for p in points]
        else:
            for value, arg in zip(values, args, strict=True):
                if value.kind not in (NUMBER, *LOOSE):
                    raise self.fail(f"a coordinate of POLYGON must be numeric, not {value.kind}", arg)
            if len(values) % 2:
                raise self.fail(f"POLYGON needs pairs of coordinates, got {len(values)} numbers", node)
            if len(values) < 6:
                raise self.fail(f"a polygon needs at least 3 vertices, got {len(values) // 2}", node)
            coords = [v.sql for v in values]
            constants = []
            for i in range(0, len(values), 2):
                ra, dec = values[i].const, values[i + 1].const
                constants.append((float(ra), float(dec)) if isinstance(ra, int | float) and isinstance(
                    dec, int | float) else None)
        if all(c is not None for c in constants):
            try:
                vertices = geo.normalize_polygon([c for c in constants if c is not None])
            except Exception as err:
                raise self.fail(err.message, node) from None  # type: ignore[attr-defined]
            return self._constant_polygon(vertices)
        return Geometry("polygon", (f"adql_polygon_ccw({_array(coords)})",))

    def region_function(self: Compiler, args: list[exp.Expr], node: exp.Expr, scope: Scope) -> Geometry:
        arg = args[0]
        if not (isinstance(arg, exp.Literal) and arg.is_string):
            raise self.fail("REGION needs an STC-S string literal", arg)
        words = arg.this.split()
        if not words:
            raise self.fail("empty STC-S region", arg)
        shape = words[0].upper()
        rest = words[1:]
        while rest and not _is_number(rest[0]):
            frame = rest.pop(0)
            if frame.upper() in ("ICRS",) or frame.upper() in _REFPOS:
                continue
            raise self.fail(f"STC-S frame {frame!r} is not supported; use ICRS", arg)
        if not all(_is_number(w) for w in rest):
            raise self.fail("STC-S region coordinates must be numbers (unit degrees)", arg)
        numbers = [float(w) for w in rest]
        try:
            if shape == "POSITION" and len(numbers) == 2:
                geo.check_position(*numbers)
                return Geometry("point", (repr(numbers[0]), repr(numbers[1])), point=(numbers[0], numbers[1]))
            if shape == "CIRCLE" and len(numbers) == 3:
                geo.check_position(numbers[0], numbers[1])
                geo.check_radius(numbers[2])
                return Geometry("circle", tuple(float_repr(n) for n in numbers), region=Circle(*numbers),
                                point=(numbers[0], numbers[1]), radius=numbers[2])
            if shape == "BOX" and len(numbers) == 4:
                return self._constant_polygon(geo.box_vertices(*numbers))
            if shape == "POLYGON" and len(numbers) >= 6 and len(numbers) % 2 == 0:
                pairs = [(numbers[i], numbers[i + 1]) for i in range(0, len(numbers), 2)]
                return self._constant_polygon(geo.normalize_polygon(pairs))
        except Exception as err:
            raise self.fail(getattr(err, "message", str(err)), arg) from None
        raise self.fail(f"unsupported or malformed STC-S region {arg.this[:60]!r} "
                        "(Position, Circle, Box and Polygon are supported)", arg)

    def moc_function(self: Compiler, args: list[exp.Expr], node: exp.Expr, scope: Scope) -> Geometry:
        if len(args) == 1:
            arg = args[0]
            if not (isinstance(arg, exp.Literal) and arg.is_string):
                raise self.fail("MOC needs a MOC 2.0 ASCII string literal, e.g. MOC('3/1-5 4/88')", arg)
            try:
                ascii_moc, ranges = geo.moc_ranges(arg.this)
            except Exception as err:
                raise self.fail(getattr(err, "message", str(err)), arg) from None
        else:
            order_value = self.expr(args[0], scope)
            order = self._check_order(order_value, args[0])
            region = self._geometry_arg(args[1], scope, "the second argument of MOC")
            if order is None or region.region is None and region.point is None:
                raise self.fail("MOC(order, geometry) needs a constant order and a constant geometry", node)
            ascii_moc, ranges = _moc_of_region(region, order)
        flat = ",".join(f"{lo},{hi}" for lo, hi in ranges)
        return Geometry("moc", (f"CAST('{{{flat}}}' AS bigint[])",), region=Moc(ascii_moc), moc_ascii=ascii_moc)

    def _check_order(self: Compiler, order: Value, node: exp.Expr) -> int | None:
        if order.kind in LOOSE:
            return None
        if order.kind != NUMBER or order.datatype not in INTEGER_TYPES:
            raise self.fail("a HEALPix order must be an integer", node)
        if isinstance(order.const, int):
            if not 0 <= order.const <= 29:
                raise self.fail(f"HEALPix order {order.const} is outside 0..29", node)
            return order.const
        return None

    def centroid(self: Compiler, g: Geometry, node: exp.Expr) -> Geometry:
        if g.shape == "point":
            return g
        if g.shape == "circle":
            return Geometry("point", g.parts[:2], point=g.point, position=g.position)
        if g.shape in ("polygon", "region"):
            call = f"adql_{'polygon' if g.shape == 'polygon' else 'dali'}_centroid({g.parts[0]})"
            return Geometry("point", (f"({call})[1]", f"({call})[2]"))
        raise self.fail("CENTROID of a MOC is not supported", node)

    def area(self: Compiler, g: Geometry, node: exp.Expr) -> Value:
        info = _deg_info("area", "deg**2")
        if g.shape == "point":
            return Value("CAST(0 AS double precision)", NUMBER, "double", info=info, const=0.0)
        if g.shape == "circle":
            return Value(f"adql_circle_area({g.parts[2]})", NUMBER, "double", info=info)
        if g.shape == "polygon":
            return Value(f"adql_polygon_area({g.parts[0]})", NUMBER, "double", info=info)
        if g.shape == "region":
            return Value(f"adql_dali_area({g.parts[0]})", NUMBER, "double", info=info)
        if g.moc_ascii is not None:
            from mocpy import MOC

            sky = MOC.from_string(g.moc_ascii, format="ascii").sky_fraction * 4 * math.pi * (180 / math.pi) ** 2
            return Value(float_repr(sky), NUMBER, "double", info=info, const=sky)
        raise self.fail("AREA of this MOC is not supported", node)

    # ------------------------------------------------------------- distance
    def distance(self: Compiler, args: list[exp.Expr], node: exp.Expr, scope: Scope) -> Value:
        if len(args) == 4:
            ra1, dec1, ra2, dec2 = self._numbers(args, scope, "a coordinate of DISTANCE")
            first, second = self._make_point(ra1, dec1, node), self._make_point(ra2, dec2, node)
        elif len(args) == 2:
            first = self._point_of(self.expr(args[0], scope), args[0], "the first argument of DISTANCE")
            second = self._point_of(self.expr(args[1], scope), args[1], "the second argument of DISTANCE")
        else:
            raise self.fail(f"DISTANCE takes two points or four coordinates, got {len(args)} arguments", node)
        sql = f"adql_distance({first.parts[0]}, {first.parts[1]}, {second.parts[0]}, {second.parts[1]})"
        return Value(sql, NUMBER, "double", info=_deg_info("distance"), distance=DistanceCall(first, second),
                     name="distance")

    def distance_comparison(self: Compiler, distance: Value, limit: Value, op: str,
                            node: exp.Expr | None = None) -> Value:
        exact = f"({distance.sql} {op} {limit.sql})"
        radius = limit.const
        prefilter = None
        call = distance.distance
        if call is not None and isinstance(radius, int | float) and 0 <= radius <= 180:
            first, second = call.first.position, call.second.position
            if node is not None and first is not None and second is not None and self.crossmatch(
                node, first, second, float(radius), symmetric_pick=True
            ):
                return Value(exact, PREDICATE)
            prefilter = self._cone_prefilter(call.first, call.second, float(radius))
            if prefilter is None:
                prefilter = self._cone_prefilter(call.second, call.first, float(radius))
        return Value(_and(prefilter, exact), PREDICATE)

    def _cone_prefilter(self: Compiler, point: Geometry, centre: Geometry, radius: float) -> str | None:
        if point.position is None:
            return None
        if centre.point is not None:
            return self.spatial.region_prefilter(point.position, Circle(centre.point[0], centre.point[1], radius))
        if centre.position is not None:
            return self.spatial.join_prefilter(point.position, centre.position, radius)
        return None

    # ----------------------------------------------------------- predicates
    def spatial_predicate(self: Compiler, name: str, args: list[exp.Expr], node: exp.Expr,
                          scope: Scope) -> Value:
        a = self._geometry_arg(args[0], scope, f"the first argument of {name}")
        b = self._geometry_arg(args[1], scope, f"the second argument of {name}")
        if name == "INTERSECTS" and b.shape == "point" and a.shape != "point":
            a, b = b, a
        if "named" in (a.shape, b.shape) and not (a.shape == "point" and b.shape == "named"):
            raise self.fail(f"{name} with gw_region needs a point as the other argument", node)
        crossmatch = None
        if a.shape == "point":
            exact = self._point_in(a, b, node)
            prefilter = None
            if a.position is not None:
                if b.region is not None:
                    prefilter = self.spatial.region_prefilter(a.position, b.region)
                elif b.shape == "circle" and b.position is not None and b.radius is not None:
                    prefilter = self.spatial.join_prefilter(a.position, b.position, b.radius)
                    crossmatch = (a.position, b.position, b.radius)
            elif a.point is not None and b.shape == "circle" and b.position is not None and b.radius is not None:
                # circles around indexed positions that contain a fixed point: a cone around the point
                prefilter = self.spatial.region_prefilter(b.position, Circle(a.point[0], a.point[1], b.radius))
            elif b.shape == "region":
                prefilter = self._footprint_prefilter(b, _constant_region(a))
        else:
            if "moc" in (a.shape, b.shape):
                raise self.fail(f"{name} with a MOC is only supported for a point and a MOC", node)
            function = "adql_region_within" if name == "CONTAINS" else "adql_region_intersects"
            exact = f"{function}({kind_sql(a)}, {geometry_array(a)}, {kind_sql(b)}, {geometry_array(b)})"
            # a region within, containing or intersecting a constant region overlaps it
            prefilter = (self._footprint_prefilter(a, _constant_region(b)) if a.shape == "region"
                         else self._footprint_prefilter(b, _constant_region(a)))
        test = SpatialTest(exact, prefilter)
        return Value(f"CAST({exact} AS integer)", NUMBER, "int", spatial=test, name=name.lower(),
                     extras={"crossmatch": crossmatch} if crossmatch else {})

    def _point_in(self: Compiler, p: Geometry, region: Geometry, node: exp.Expr) -> str:
        ra, dec = p.parts
        if region.shape == "point":
            return f"(adql_distance({ra}, {dec}, {region.parts[0]}, {region.parts[1]}) = 0)"
        if region.shape == "circle":
            return f"adql_point_in_circle({ra}, {dec}, {', '.join(region.parts)})"
        if region.shape == "polygon":
            return f"adql_point_in_polygon({ra}, {dec}, {region.parts[0]})"
        if region.shape == "named":
            skymap, level = region.parts
            return f"vo_sky.gw_in_region({skymap}, {level}, {ra}, {dec})"
        if region.shape == "region":
            return f"adql_region_within('point', adql_point({ra}, {dec}), {kind_sql(region)}, {region.parts[0]})"
        hpx = p.position.hpx_sql if p.position is not None else f"adql_healpix_index(29, {ra}, {dec})"
        return f"adql_hpx_in_moc({hpx}, {region.parts[0]})"

    def spatial_comparison(self: Compiler, call: Value, other: Value, op: str, node: exp.Expr) -> Value:
        test = call.spatial
        assert test is not None
        if other.const not in (0, 1):
            raise self.fail(f"{call.name.upper() if call.name else 'CONTAINS'} returns 0 or 1; compare it with "
                            "0 or 1", node)
        positive = (other.const == 1) == (op == "=")
        if positive:
            pair = call.extras.get("crossmatch")
            if pair is not None and self.crossmatch(node, *pair, symmetric_pick=False):
                return Value(test.exact, PREDICATE)
            return Value(_and(test.prefilter, test.exact), PREDICATE)
        return Value(f"(NOT {test.exact})", PREDICATE)

    def cast_geometry(self: Compiler, value: Value, shape: str, node: exp.Expr) -> Value:
        if value.kind == GEOMETRY and value.geometry is not None:
            if value.geometry.shape == shape:
                return value
            raise self.fail(f"cannot CAST a {value.geometry.shape} to {shape.upper()}", node)
        if value.kind not in (STRING, *LOOSE):
            raise self.fail(f"only strings (DALI serialisation) can be cast to {shape.upper()}", node)
        if isinstance(value.const, str):
            return geometry_value(self._constant_dali(value.const, shape, node), value.aggregate)
        array = f"adql_dali_geometry({value.sql}, '{shape}')"
        if shape == "point":
            g = Geometry("point", (f"({array})[1]", f"({array})[2]"))
        elif shape == "circle":
            g = Geometry("circle", (f"({array})[1]", f"({array})[2]", f"({array})[3]"))
        else:
            g = Geometry("polygon", (f"adql_polygon_ccw({array})",))
        return geometry_value(g, value.aggregate)

    def _constant_dali(self: Compiler, text: str, shape: str, node: exp.Expr) -> Geometry:
        words = text.split()
        if not words or not all(_is_number(w) for w in words):
            raise self.fail(f"cannot CAST {text[:40]!r} to {shape.upper()}: expected numbers separated by spaces",
                            node)
        numbers = [float(w) for w in words]
        try:
            if shape == "point" and len(numbers) == 2:
                geo.check_position(*numbers)
                return Geometry("point", tuple(float_repr(n) for n in numbers), point=(numbers[0], numbers[1]))
            if shape == "circle" and len(numbers) == 3:
                geo.check_position(numbers[0], numbers[1])
                geo.check_radius(numbers[2])
                return Geometry("circle", tuple(float_repr(n) for n in numbers), region=Circle(*numbers),
                                point=(numbers[0], numbers[1]), radius=numbers[2])
            if shape == "polygon" and len(numbers) >= 6 and len(numbers) % 2 == 0:
                pairs = [(numbers[i], numbers[i + 1]) for i in range(0, len(numbers), 2)]
                return self._constant_polygon(geo.normalize_polygon(pairs))
        except Exception as err:
            raise self.fail(getattr(err, "message", str(err)), node) from None
        raise self.fail(f"cannot CAST {len(numbers)} numbers to {shape.upper()}", node)

    # ------------------------------------------------------------ GW maps
    def _skymap_name(self: Compiler, node: exp.Expr) -> str:
        if not (isinstance(node, exp.Literal) and node.is_string and node.this.strip()):
            raise self.fail("the sky map name must be a non-empty string literal", node)
        return node.this

    def gw_region(self: Compiler, args: list[exp.Expr], node: exp.Expr, scope: Scope) -> Geometry:
        name = self._skymap_name(args[0])
        (level,) = self._numbers(args[1:], scope, "the credible level of gw_region")
        if not isinstance(level.const, int | float) or not 0 <= level.const <= 1:
            raise self.fail("the credible level of gw_region must be a constant between 0 and 1", args[1])
        region = NamedRegion("gw_region", (name, float(level.const)))
        return Geometry("named", (string_literal(name), float_repr(float(level.const))), region=region)

    def gw_value(self: Compiler, name: str, args: list[exp.Expr], node: exp.Expr, scope: Scope) -> Value:
        skymap = string_literal(self._skymap_name(args[0]))
        ra, dec = self._numbers(args[1:], scope, f"a coordinate of {name.lower()}")
        function = "vo_sky." + name.lower()
        position = self._indexed_position(ra, dec)
        if position is not None:
            sql = f"{function}_hpx({skymap}, {position.hpx_sql})"
        else:
            sql = f"{function}({skymap}, {ra.sql}, {dec.sql})"
        unit = "sr**-1" if name == "GW_PROBDENSITY" else None
        from adql.catalog import ColumnInfo

        info = ColumnInfo(name=name.lower(), datatype="double", unit=unit)
        return Value(sql, NUMBER, "double", info=info, name=name.lower())

    # ------------------------------------------------------------------ UDF
    def healpix_index(self: Compiler, args: list[exp.Expr], node: exp.Expr, scope: Scope) -> Value:
        order, ra, dec = self._numbers(args, scope, "an argument of ivo_healpix_index")
        depth = self._check_order(order, args[0])
        position = self._indexed_position(ra, dec)
        if position is not None and depth is not None:
            shift = 2 * (29 - depth)
            sql = position.hpx_sql if shift == 0 else f"({position.hpx_sql} >> {shift})"
        else:
            sql = f"adql_healpix_index({order.sql}, {ra.sql}, {dec.sql})"
        return Value(sql, NUMBER, "long", name="ivo_healpix_index")


_REFPOS = {"GEOCENTER", "BARYCENTER", "HELIOCENTER", "TOPOCENTER", "LSR", "UNKNOWNREFPOS", "SPHERICAL2",
           "CARTESIAN2", "UNITSPHERE"}
_NUMBER_RE = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\Z")


def _is_number(word: str) -> bool:
    return bool(_NUMBER_RE.match(word))


def float_repr(value: float) -> str:
    return f"CAST({float(value)!r} AS double precision)"


def _and(prefilter: str | None, exact: str) -> str:
    return f"(({prefilter}) AND {exact})" if prefilter else exact


def _deg_info(name: str, unit: str = _DEG):
    from adql.catalog import ColumnInfo

    return ColumnInfo(name=name, datatype="double", unit=unit)


def _moc_of_region(region: Geometry, order: int) -> tuple[str, list[tuple[int, int]]]:
    import astropy.units as u
    from astropy.coordinates import Latitude, Longitude
    from mocpy import MOC

    shape = region.region
    if isinstance(shape, Circle):
        moc = MOC.from_cone(lon=Longitude(shape.ra * u.deg), lat=Latitude(shape.dec * u.deg),
                            radius=shape.radius * u.deg, max_depth=order)
    elif isinstance(shape, Polygon):
        lon = Longitude([v[0] for v in shape.vertices] * u.deg)
        lat = Latitude([v[1] for v in shape.vertices] * u.deg)
        moc = MOC.from_polygon(lon=lon, lat=lat, max_depth=order)
    elif isinstance(shape, Moc):
        moc = MOC.from_string(shape.ascii, format="ascii").degrade_to_order(order)
    elif region.point is not None:
        moc = MOC.from_lonlat(Longitude([region.point[0]] * u.deg), Latitude([region.point[1]] * u.deg),
                              max_norder=order)
    else:  # pragma: no cover - callers check
        raise ValueError("not a constant region")
    return moc.to_string(format="ascii"), [(int(lo), int(hi)) for lo, hi in moc.to_depth29_ranges]
