from django.apps import AppConfig


class PeerConfig(AppConfig):
    name = "bench.peer"
    label = "bench_peer"
    verbose_name = "Benchmark reference pages"
