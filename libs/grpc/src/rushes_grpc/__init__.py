"""asyncio gRPC server bootstrap (health, reflection, graceful shutdown) and client channels with deadlines."""
