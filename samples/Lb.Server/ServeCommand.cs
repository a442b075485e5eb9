using System.CommandLine;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Lb.AspNetCore;
using Lb.Core.Options;
using Lb.Core.Spec;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Lb.Server;

/// <summary><c>serve [app.json]</c>: runs the proxy and the admin API until SIGTERM/SIGINT.</summary>
internal static class ServeCommand
{
    private const string ListenerKey = "lb.listener";
    private const string AdminListener = "admin";
    private const string DefaultConfigPath = "configs/app.json";

    public static Command Create()
    {
        var path = new Argument<string?>("app.json") { Description = "Node boot file (listen addresses, data dir, ...). Default: configs/app.json if it exists, else built-in defaults.", Arity = ArgumentArity.ZeroOrOne };
        var logLevel = new Option<string>("--log-level") { Description = "trace, debug, info, warning, error", DefaultValueFactory = _ => "info" };
        logLevel.AcceptOnlyFromAmong("trace", "debug", "info", "warning", "error");
        var command = new Command("serve", "Run the load balancer: proxy listener, admin API and dashboard listener.") { path, logLevel };
        command.SetAction((result, ct) => RunAsync(result.GetValue(path), result.GetValue(logLevel)!, ct));
        return command;
    }

    public static async Task<int> RunAsync(string? configPath, string logLevel, CancellationToken cancellationToken)
    {
        LbNodeOptions node;
        try
        {
            node = configPath is not null ? BootFile.Load(configPath)
                : File.Exists(DefaultConfigPath) ? BootFile.Load(DefaultConfigPath)
                : Defaults();
        }
        catch (BootFileException ex)
        {
            await Console.Error.WriteLineAsync($"lb: {ex.Message}");
            return Cli.Failed;
        }

        DescriptorLimit.RaiseToHard();
        WebApplication app;
        try
        {
            app = BuildApp(node, logLevel);
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException)
        {
            await Console.Error.WriteLineAsync($"lb: {ex.Message}");
            return Cli.Failed;
        }

        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or Microsoft.Extensions.Options.OptionsValidationException or System.Security.Cryptography.CryptographicException)
        {
            await Console.Error.WriteLineAsync($"lb: cannot start: {ex.Message}");
            await app.DisposeAsync();
            return Cli.Failed;
        }
        foreach (var address in app.Urls)
        {
            Console.WriteLine($"lb: listening on {address}");
        }
        Console.Out.Flush();
        await app.WaitForShutdownAsync(CancellationToken.None);
        await app.DisposeAsync();
        Console.WriteLine("lb: stopped");
        return Cli.Ok;
    }

    private static LbNodeOptions Defaults()
    {
        var o = new LbNodeOptions();
        o.ApplyDefaults();
        return o;
    }

    /// <summary>Composes the reference server: file store, proxy on one listener, admin API on the other.</summary>
    internal static WebApplication BuildApp(LbNodeOptions node, string logLevel)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.ffffffZ ";
            o.UseUtcTimestamp = true;
        });
        var level = logLevel switch
        {
            "trace" => LogLevel.Trace,
            "debug" => LogLevel.Debug,
            "warning" => LogLevel.Warning,
            "error" => LogLevel.Error,
            _ => LogLevel.Information,
        };
        builder.Logging.SetMinimumLevel(level);
        // Framework chatter stays quiet unless asked for; Lb's own events follow --log-level.
        builder.Logging.AddFilter("Microsoft", level <= LogLevel.Debug ? level : LogLevel.Warning);
        builder.Logging.AddFilter("System.Net.Http", LogLevel.Warning);
        // Any enabled level here makes ASP.NET Core start an Activity and a log scope per request (~800 B/req, measured in docs/benchmarks.md).
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", level <= LogLevel.Debug ? level : LogLevel.None);
        // The proxy answers every upstream failure itself; YARP's per-request warnings would flood the log.
        builder.Logging.AddFilter("Yarp", level <= LogLevel.Debug ? level : LogLevel.Error);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));

        // DotNext logs each election round, replication step and unreachable peer (with a stack trace); Lb.Raft logs what matters itself.
        builder.Logging.AddFilter("DotNext", level <= LogLevel.Debug ? level : LogLevel.Error);
        builder.Services.AddLoadBalancer(configure: o => Copy(node, o)).AddRaftStore().AddAspNetCore();

        ListenAddress.TryParse(node.ProxyListenAddr, out var proxy, out _);
        ListenAddress.TryParse(node.DashboardListenAddr, out var admin, out _);
        // Opt-in, off by default. DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 makes the runtime run socket completions
        // on its epoll threads; with it Kestrel also runs requests there instead of queueing them to the thread pool
        // (-21 % CPU per proxied request, docs/benchmarks.md "Tuning log"). Unsafe as a default: anything that blocks on
        // that thread stalls every connection it serves, and the admin API's config write blocks on fsync.
        var inline = Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") == "1";
        builder.WebHost.UseSockets(sockets => sockets.UnsafePreferInlineScheduling = inline);
        var descriptors = DescriptorLimit.Current() ?? 65536;
        long adminBudget = node.MaxAdminConnections > 0 ? node.MaxAdminConnections : DescriptorLimit.DefaultAdminConnections;
        var proxyBudget = node.MaxProxyConnections > 0 ? node.MaxProxyConnections : DescriptorLimit.DefaultProxyConnections(descriptors, adminBudget);
        builder.WebHost.UseKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.KeepAliveTimeout = GoDuration.Parse(string.IsNullOrEmpty(node.KeepAliveTimeout) ? LbNodeOptions.DefaultKeepAliveTimeout : node.KeepAliveTimeout);
            kestrel.AllowSynchronousIO = false;
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(5);
            kestrel.Limits.MaxRequestBodySize = null; // the proxy streams bodies of any size; the admin API bounds its own
            var certificate = node.ProxyTlsCertificate.Length > 0
                ? X509Certificate2.CreateFromPemFile(node.ProxyTlsCertificate, node.ProxyTlsKey)
                : null;
            Listen(kestrel, proxy!, "proxy", proxyBudget, certificate);
            Listen(kestrel, admin!, AdminListener, adminBudget, null);
        });

        var app = builder.Build();
        app.MapWhen(IsAdmin, adminApp =>
        {
            adminApp.UseRouting();
            adminApp.UseEndpoints(endpoints =>
            {
                endpoints.MapLoadBalancerAdmin();
                endpoints.MapLoadBalancerDashboard();
            });
        });
        app.RunLoadBalancer();
        return app;
    }

    private static void Listen(KestrelServerOptions kestrel, ListenAddress address, string name, long maxConnections, X509Certificate2? certificate)
    {
        void Configure(ListenOptions listen)
        {
            listen.UseConnectionLimit(name, maxConnections); // first: over-budget connections are closed before TLS
            if (certificate is null)
            {
                // Clear-text HTTP/2 would need prior knowledge on a port of its own; plain listeners speak HTTP/1.1.
                listen.Protocols = HttpProtocols.Http1;
            }
            else
            {
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                listen.UseHttps(certificate);
            }
            listen.Use(next => connection =>
            {
                connection.Items[ListenerKey] = name;
                return next(connection);
            });
        }

        if (address.Host.Length == 0)
        {
            kestrel.ListenAnyIP(address.Port, Configure);
        }
        else if (address.Host == "localhost")
        {
            kestrel.ListenLocalhost(address.Port, Configure);
        }
        else if (IPAddress.TryParse(address.Host, out var ip))
        {
            kestrel.Listen(ip, address.Port, Configure);
        }
        else
        {
            var resolved = Dns.GetHostAddresses(address.Host);
            kestrel.Listen(resolved.Length > 0 ? resolved[0] : IPAddress.Any, address.Port, Configure);
        }
    }

    private static bool IsAdmin(HttpContext context) =>
        context.Features.Get<IConnectionItemsFeature>()?.Items.TryGetValue(ListenerKey, out var name) == true && (string?)name == AdminListener;

    private static void Copy(LbNodeOptions from, LbNodeOptions to)
    {
        to.ProxyListenAddr = from.ProxyListenAddr;
        to.DashboardListenAddr = from.DashboardListenAddr;
        to.RaftDataDir = from.RaftDataDir;
        to.NodeId = from.NodeId;
        to.RaftListenAddr = from.RaftListenAddr;
        to.RaftAdvertiseAddr = from.RaftAdvertiseAddr;
        to.AdminToken = from.AdminToken;
        to.AdminReadRequiresToken = from.AdminReadRequiresToken;
        to.VipInterface = from.VipInterface;
        to.TrustedProxies = [.. from.TrustedProxies];
        to.ProxyTlsCertificate = from.ProxyTlsCertificate;
        to.ProxyTlsKey = from.ProxyTlsKey;
        to.AccessLog = from.AccessLog;
        to.MaxProxyConnections = from.MaxProxyConnections;
        to.MaxAdminConnections = from.MaxAdminConnections;
        to.KeepAliveTimeout = from.KeepAliveTimeout;
        to.ConfigHistoryLimit = from.ConfigHistoryLimit;
    }
}
