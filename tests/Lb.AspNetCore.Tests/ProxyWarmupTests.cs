using System.Collections.Concurrent;
using Lb.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Lb.AspNetCore.Tests;

/// <summary>
/// A node compiles its proxy path once at start (so the first request after a VIP takeover is not a cold one),
/// through a private route and upstream that nothing else can see.
/// </summary>
public sealed class ProxyWarmupTests
{
    [Fact]
    public async Task The_proxy_path_is_warmed_up_at_start_through_a_private_upstream_and_leaves_no_trace()
    {
        var events = new EventCapture();
        await using var lb = await InProcessLb.StartAsync(b => b.Services.AddLogging(l => l.AddProvider(events).AddFilter<EventCapture>("Lb.AspNetCore.Proxy.ProxyWarmup", LogLevel.Debug)));

        var warmed = await events.WaitForAsync(6160, TimeSpan.FromSeconds(60));
        Assert.Contains("(status 200;", warmed, StringComparison.Ordinal);
        Assert.Contains("fast path status 0,", warmed, StringComparison.Ordinal);

        // Not part of the served configuration, the metrics or the route statistics.
        Assert.Equal("404", await lb.ProxyAsync("lb-warmup.invalid"));
        Assert.DoesNotContain("lb-warmup", await lb.GetStringAsync("/metrics"), StringComparison.Ordinal);
        Assert.DoesNotContain("lb-warmup", await lb.GetStringAsync("/api/config"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_fast_path_is_warmed_up_at_start_through_its_connection_code_and_leaves_no_trace()
    {
        var events = new EventCapture();
        await using var lb = await InProcessLb.StartAsync(
            b => b.Services.AddLogging(l => l.AddProvider(events).AddFilter<EventCapture>("Lb.AspNetCore.Proxy.ProxyWarmup", LogLevel.Debug)),
            path: ProxyPath.Fast);

        var warmed = await events.WaitForAsync(6160, TimeSpan.FromSeconds(60));
        Assert.Contains("(status 200;", warmed, StringComparison.Ordinal);
        Assert.Contains("fast path status 200,", warmed, StringComparison.Ordinal);

        // No proxied request counted yet (the warm-up's went to a private meter), no series or configuration names
        // it, and the live fast-path table never had its route.
        var metrics = await lb.GetStringAsync("/metrics");
        Assert.DoesNotContain("lb_proxy_requests_total{", metrics, StringComparison.Ordinal);
        Assert.DoesNotContain("lb-warmup", metrics, StringComparison.Ordinal);
        Assert.DoesNotContain("lb-warmup", await lb.GetStringAsync("/api/config"), StringComparison.Ordinal);
        Assert.DoesNotContain("lb-warmup", await lb.GetStringAsync("/api/runtime"), StringComparison.Ordinal);
        Assert.Equal("404", await lb.ProxyAsync("lb-warmup.invalid"));
    }

    private sealed class EventCapture : ILoggerProvider
    {
        private readonly ConcurrentDictionary<int, TaskCompletionSource<string>> _events = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this);

        public void Dispose()
        {
        }

        public Task<string> WaitForAsync(int eventId, TimeSpan timeout) =>
            Get(eventId).Task.WaitAsync(timeout, TestContext.Current.CancellationToken);

        private TaskCompletionSource<string> Get(int eventId) =>
            _events.GetOrAdd(eventId, _ => new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously));

        private sealed class Logger(EventCapture owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                owner.Get(eventId.Id).TrySetResult(formatter(state, exception));
        }
    }
}
