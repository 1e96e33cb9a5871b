"""S3 object storage through the minio SDK: buckets, streaming put/get with checksums, asset keys."""
