"""Settings model. One source of truth for defaults, each with its validated range."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConfigError(RuntimeError):
    """Raised when the environment does not describe a valid configuration."""


class NatsSettings(BaseModel):
    url: str = Field("nats://127.0.0.1:4222", description="NATS server URL(s), comma separated.")
    user: str | None = Field(None, description="NATS user, when the server requires authentication.")
    password: SecretStr | None = None
    stream: str = Field("RUSHES", description="The one JetStream stream holding rushes.v1.>.")
    stream_replicas: int = Field(1, ge=1, le=5, description="R3 in production, R1 locally.")
    duplicate_window_s: float = Field(
        600.0, gt=0, le=86400, description="How long a Nats-Msg-Id deduplicates repeats."
    )
    max_deliver: int = Field(5, ge=1, le=100, description="Deliveries before a message is poison.")
    ack_wait_s: float = Field(60.0, gt=0, le=3600, description="Lease of one delivery.")
    backoff_s: list[float] = Field(
        default_factory=lambda: [1.0, 5.0, 15.0, 30.0],
        description="Redelivery delays after a nak (last value repeats).",
    )
    connect_timeout_s: float = Field(5.0, gt=0, le=120)
    tls_ca_file: str | None = Field(
        None, description="PEM CA bundle that signs the NATS server's certificate; set it to require TLS."
    )
    tls_cert_file: str | None = Field(
        None, description="Client certificate (PEM) when NATS verifies clients."
    )
    tls_key_file: str | None = Field(None, description="Key of tls_cert_file (PEM).")

    @field_validator("backoff_s")
    @classmethod
    def _backoff_positive(cls, value: list[float]) -> list[float]:
        if not value or any(v <= 0 for v in value):
            raise ValueError("backoff_s must be a non-empty list of positive seconds")
        return value

    @property
    def servers(self) -> list[str]:
        return [u.strip() for u in self.url.split(",") if u.strip()]


class S3Settings(BaseModel):
    endpoint: str = Field("127.0.0.1:8333", description="host:port of the S3 API (MinIO, SeaweedFS...).")
    access_key: str = "rushes"
    secret_key: SecretStr = SecretStr("rushes-secret")
    bucket: str = Field("rushes", min_length=3, max_length=63)
    secure: bool = False
    region: str | None = None
    part_size_bytes: int = Field(16 * 1024 * 1024, ge=5 * 1024 * 1024, le=5 * 1024**3)
    presign_expiry_s: int = Field(900, ge=1, le=7 * 86400, description="Presigned URLs are short-lived.")


class PostgresSettings(BaseModel):
    dsn: str = Field("postgresql://postgres@127.0.0.1:5432/rushes", description="libpq URI.")
    pool_size: int = Field(4, ge=1, le=64)


class TritonSettings(BaseModel):
    url: str = Field("127.0.0.1:8001", description="host:port of Triton's gRPC endpoint.")
    timeout_s: float = Field(120.0, gt=0, le=3600, description="Deadline of one inference call.")
    ready_timeout_s: float = Field(60.0, gt=0, le=3600)


class GrpcSettings(BaseModel):
    address: str = Field("127.0.0.1:0", description="Bind address of this service's gRPC server.")
    grace_s: float = Field(20.0, ge=0, le=600, description="Graceful shutdown grace period.")
    max_message_bytes: int = Field(8 * 1024 * 1024, ge=1024, le=256 * 1024 * 1024)
    auth_tokens_file: str | None = Field(
        None,
        description="JSON file of principals (name, role, sha256 of the token). Set: every call but "
        "health and reflection needs `authorization: Bearer <token>` (see rushes_grpc.auth). "
        "Unset: no authentication (tests, a trusted network).",
    )
    tls_cert_file: str | None = Field(
        None, description="Server certificate (PEM); with tls_key_file: TLS on."
    )
    tls_key_file: str | None = Field(None, description="Key of tls_cert_file (PEM).")
    tls_client_ca_file: str | None = Field(
        None, description="With TLS on: also require client certificates signed by this CA (mTLS)."
    )

    @model_validator(mode="after")
    def _tls_pair(self) -> GrpcSettings:
        if bool(self.tls_cert_file) != bool(self.tls_key_file):
            raise ValueError("tls_cert_file and tls_key_file must be set together")
        if self.tls_client_ca_file and not self.tls_cert_file:
            raise ValueError("tls_client_ca_file needs tls_cert_file and tls_key_file (TLS on)")
        return self


class MediaLimits(BaseModel):
    """What untrusted media may declare before we refuse to decode it."""

    max_bytes: int = Field(64 * 1024**3, ge=1, description="Largest accepted file.")
    max_width: int = Field(16384, ge=16)
    max_height: int = Field(16384, ge=16)
    max_duration_s: float = Field(24 * 3600.0, gt=0)
    max_fps: float = Field(1000.0, gt=0)
    max_streams: int = Field(32, ge=1)
    max_metadata_bytes: int = Field(1024 * 1024, ge=1024, description="Sum of all metadata tags.")
    probe_timeout_s: float = Field(30.0, gt=0)
    job_timeout_s: float = Field(3600.0, gt=0, description="Wall-clock bound of one ingest job.")


class RushesSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="RUSHES_", env_nested_delimiter="__", extra="ignore", validate_default=True
    )

    service_name: str = Field("rushes", description="Name this process reports in events and logs.")
    state_dir: str = Field(".rushes", description="Where the local stack keeps its state.")
    metrics_port: int = Field(0, ge=0, le=65535, description="0 picks a free port.")
    metrics_address: str = "127.0.0.1"
    log_level: str = Field("INFO", pattern="^(DEBUG|INFO|WARNING|ERROR|CRITICAL)$")
    pipeline_stages: list[str] = Field(
        default_factory=lambda: ["ingest"],
        description="Stages the running stack performs; an asset is complete when all are done.",
    )
    nats: NatsSettings = Field(default_factory=NatsSettings)
    s3: S3Settings = Field(default_factory=S3Settings)
    postgres: PostgresSettings = Field(default_factory=PostgresSettings)
    triton: TritonSettings = Field(default_factory=TritonSettings)
    grpc: GrpcSettings = Field(default_factory=GrpcSettings)
    limits: MediaLimits = Field(default_factory=MediaLimits)
    ingest_address: str = Field("127.0.0.1:50051", description="Where clients reach IngestService.")
    library_address: str = Field("127.0.0.1:50052", description="Where clients reach LibraryService.")
    tagging_address: str = Field("127.0.0.1:50053", description="Where clients reach TaggingService.")
    asr_address: str = Field("127.0.0.1:50054", description="Where probes reach the asr service.")
    grading_address: str = Field("127.0.0.1:50055", description="Where clients reach GradingService.")
    picks_address: str = Field("127.0.0.1:50056", description="Where clients reach PicksService.")
    enhance_address: str = Field("127.0.0.1:50057", description="Where clients reach EnhanceService.")
    qc_address: str = Field("127.0.0.1:50058", description="Where clients reach QcService.")
    token: SecretStr | None = Field(
        None, description="Bearer token this process sends on its gRPC calls (RUSHES_TOKEN)."
    )
    grpc_client_ca_file: str | None = Field(
        None, description="PEM CA bundle: when set, gRPC clients of this process dial with TLS."
    )


def load_settings(**overrides: Any) -> RushesSettings:
    """Read and validate the environment; raise ConfigError with every problem on one line each."""
    try:
        return RushesSettings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"RUSHES_{'__'.join(str(p).upper() for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"invalid configuration: {problems}") from None
