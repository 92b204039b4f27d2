"""Scale-out: the spine's pipelines and batch scoring on Apache Spark, for services too big for one machine.

- `limelight.spine.engines.connect("spark", parquet_dir=...)` runs the Ibis pipelines unchanged.
- `limelight.scale.spark_scoring.score_all` scores every member on Spark with a broadcast model.
- `limelight.spine.world.write_world_parquet` writes the demo world to Parquet in chunks.

Heavy imports (pyspark) happen inside functions; importing this package is cheap.
"""

from __future__ import annotations

__all__: list[str] = []
