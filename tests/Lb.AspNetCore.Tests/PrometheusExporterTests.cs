using System.Diagnostics.Metrics;
using Lb.AspNetCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace Lb.AspNetCore.Tests;

public sealed class PrometheusExporterTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();

    private IMeterFactory Factory => _services.GetRequiredService<IMeterFactory>();

    public void Dispose() => _services.Dispose();

    [Fact]
    public void Counters_histograms_and_gauges_render_in_the_text_format()
    {
        using var exporter = new PrometheusExporter(Factory);
        var meter = Factory.Create("Lb.Test");
        var counter = meter.CreateCounter<long>("lb.test.requests", description: "Requests");
        var histogram = meter.CreateHistogram<double>("lb.test.duration", "s");
        var gauge = meter.CreateUpDownCounter<long>("lb.test.active");
        using var ignored = new Meter("Other.Meter");
        ignored.CreateCounter<long>("other.requests").Add(5);

        counter.Add(2, new KeyValuePair<string, object?>("route", "a\"b"));
        counter.Add(1, new KeyValuePair<string, object?>("route", "a\"b"));
        histogram.Record(0.003);
        histogram.Record(7);
        gauge.Add(3);
        gauge.Add(-1);

        var text = exporter.Render();
        Assert.Contains("# TYPE lb_test_requests_total counter", text, StringComparison.Ordinal);
        Assert.Contains("lb_test_requests_total{route=\"a\\\"b\"} 3", text, StringComparison.Ordinal);
        Assert.Contains("lb_test_duration_seconds_bucket{le=\"0.005\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("lb_test_duration_seconds_bucket{le=\"+Inf\"} 2", text, StringComparison.Ordinal);
        Assert.Contains("lb_test_duration_seconds_count 2", text, StringComparison.Ordinal);
        Assert.Contains("lb_test_active 2", text, StringComparison.Ordinal);
        Assert.DoesNotContain("other_requests", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Meters_of_another_factory_or_without_one_are_not_exported()
    {
        using var exporter = new PrometheusExporter(Factory);
        using var otherHost = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var mine = Factory.Create("Lb.Test").CreateCounter<long>("lb.test.requests");
        var theirs = otherHost.GetRequiredService<IMeterFactory>().Create("Lb.Test").CreateCounter<long>("lb.test.requests");
        using var unscoped = new Meter("Lb.Test");
        var loose = unscoped.CreateCounter<long>("lb.test.requests");

        mine.Add(1);
        theirs.Add(10);
        loose.Add(100);

        var samples = exporter.Render().Split('\n').Where(l => l.StartsWith("lb_test_requests_total", StringComparison.Ordinal));
        Assert.Equal(["lb_test_requests_total 1"], samples);
    }

    [Fact]
    public void Observable_series_that_are_no_longer_reported_disappear()
    {
        using var exporter = new PrometheusExporter(Factory);
        var meter = Factory.Create("Lb.Test");
        string[] targets = ["a:1", "b:1"];
        meter.CreateObservableGauge("lb.test.active", () => targets.Select(t => new Measurement<long>(1, new KeyValuePair<string, object?>("target", t))));
        Assert.Contains("lb_test_active{target=\"b:1\"} 1", exporter.Render(), StringComparison.Ordinal);
        targets = ["a:1"];
        var text = exporter.Render();
        Assert.Contains("lb_test_active{target=\"a:1\"} 1", text, StringComparison.Ordinal);
        Assert.DoesNotContain("b:1", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Recording_an_existing_series_allocates_nothing()
    {
        using var exporter = new PrometheusExporter(Factory);
        var meter = Factory.Create("Lb.Test");
        var counter = meter.CreateCounter<long>("lb.test.hot");
        var route = new KeyValuePair<string, object?>("route", "r1");
        var status = new KeyValuePair<string, object?>("status_class", "2xx");
        for (var i = 0; i < 100; i++)
        {
            counter.Add(1, route, status);
        }
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1_000; i++)
        {
            counter.Add(1, route, status);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
