using System.CommandLine;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Lb.AspNetCore;
using Lb.AspNetCore.Options;
using Lb.Core.Admin;
using Lb.Core.Options;
using Lb.Core.Spec;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
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
        var routes = new Option<string?>("--config") { Description = "Desired-state file (routes and pools) to load at start, validated whole; SIGHUP or 'lb config reload' re-reads it" };
        var command = new Command("serve", "Run the load balancer: proxy listener, admin API and dashboard listener.") { path, logLevel, routes };
        command.SetAction((result, ct) => RunAsync(result.GetValue(path), result.GetValue(logLevel)!, ct, result.GetValue(routes)));
        return command;
    }

    public static async Task<int> RunAsync(string? configPath, string logLevel, CancellationToken cancellationToken, string? routesFile = null)
    {
        LbNodeOptions node;
        IReadOnlyDictionary<string, string?> values;
        try
        {
            var path = configPath ?? (File.Exists(DefaultConfigPath) ? DefaultConfigPath : null);
            if (path is null)
            {
                node = Defaults();
                values = BootFile.ToConfiguration(node);
            }
            else
            {
                (values, node) = BootFile.Load(path, PackageOptionTypes);
            }
        }
        catch (BootFileException ex)
        {
            await Console.Error.WriteLineAsync($"lb: {ex.Message}");
            return Cli.Failed;
        }

        if (routesFile is not null && ConfigFile.Read(routesFile) is { Config: null } refused)
        {
            await Console.Error.WriteLineAsync($"lb: {routesFile}: not loaded, nothing started: {refused.Problems.Count} problem{(refused.Problems.Count == 1 ? "" : "s")}");
            foreach (var problem in refused.Problems)
            {
                ClientCommands.PrintProblem(problem.Field, problem.Message, problem.Code, problem.Hint);
            }
            return Cli.Failed;
        }

        DescriptorLimit.RaiseToHard();
        if (InlineIo(values) && Environment.GetEnvironmentVariable(SocketThreadCount) is null)
        {
            // Inline completions run the fast path on the socket engine's threads, and the runtime starts one engine
            // per 30 cores: one engine per core (what the runtime picks for process-wide inline completions) keeps
            // every core serving. Read when the first socket is made, which is after this line.
            Environment.SetEnvironmentVariable(SocketThreadCount, Environment.ProcessorCount.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        WebApplication app;
        try
        {
            app = BuildApp(node, logLevel, values, routesFile);
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
            await Console.Error.WriteLineAsync($"lb: cannot start: {Explain(ex, node)}");
            await app.DisposeAsync();
            return Cli.Failed;
        }
        foreach (var address in app.Urls)
        {
            Console.WriteLine($"lb: listening on {address}");
        }
        if (app.Services.GetService<ConfigFile>() is { } file)
        {
            // Listen for SIGHUP before the first load logs anything: a reload sent on seeing that line must not be lost
            // (the file's gate runs the two loads one after the other).
            file.ReloadOnSighup(app.Lifetime.ApplicationStopping);
            var loaded = await file.ReloadAsync(cancellationToken);
            Console.WriteLine(loaded.Ok ? $"lb: loaded {file.Path} as configuration version {loaded.Version}; SIGHUP or 'lb config reload' re-reads it"
                : $"lb: {file.Path} was not loaded (see the log); the stored configuration version {loaded.Version} is served");
        }
        if (AdminLoopbackOnly(node, app.Services.GetRequiredService<IOptions<AdminOptions>>().Value))
        {
            Console.WriteLine("lb: admin API on loopback only: no adminToken is set (set one to reach it from other machines; see docs/security.md)");
        }
        Console.Out.Flush();
        await app.WaitForShutdownAsync(CancellationToken.None);
        await app.DisposeAsync();
        Console.WriteLine("lb: stopped");
        return Cli.Ok;
    }

    private const string SocketThreadCount = "DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT";

    /// <summary>Whether the proxy listener completes socket I/O inline: <c>fastPath</c> and <c>inlineIo</c> (both on unless set to false).</summary>
    private static bool InlineIo(IReadOnlyDictionary<string, string?> values)
    {
        static bool On(IReadOnlyDictionary<string, string?> values, string key) =>
            !values.TryGetValue($"{BootFile.SectionName}:{key}", out var v) || !string.Equals(v, "false", StringComparison.OrdinalIgnoreCase);
        return On(values, nameof(ProxyOptions.FastPath)) && On(values, nameof(ProxyOptions.InlineIo));
    }

    /// <summary>One line that names the setting to change, instead of Kestrel's exception text.</summary>
    private static string Explain(Exception ex, LbNodeOptions node)
    {
        if (ex is IOException { InnerException: AddressInUseException })
        {
            ListenAddress.TryParse(node.ProxyListenAddr, out var proxy, out _);
            var isProxy = proxy is not null && ex.Message.Contains($":{proxy.Port}:", StringComparison.Ordinal);
            var (key, value) = isProxy ? ("proxyListenAddr", node.ProxyListenAddr) : ("dashboardListenAddr", node.DashboardListenAddr);
            return $"{key} '{value}' is already in use by another process; stop it or choose another port in app.json";
        }
        return ex.Message;
    }

    private static LbNodeOptions Defaults()
    {
        var o = new LbNodeOptions();
        o.ApplyDefaults();
        return o;
    }

    /// <summary>
    /// Options types of the composed packages beyond <see cref="LbNodeOptions"/>; their settable properties are
    /// accepted in <c>app.json</c> and bound by each package's <c>AddX</c> (<c>AddLbOptions</c>).
    /// </summary>
    internal static readonly BootOptionsType[] PackageOptionTypes = [typeof(AdminOptions), typeof(ProxyOptions)];

    /// <summary>Composes the reference server: file store, proxy on one listener, admin API on the other.</summary>
    /// <param name="node">The node options (listeners, TLS) the host itself needs.</param>
    /// <param name="logLevel">Minimum log level.</param>
    /// <param name="values"><c>app.json</c> as configuration values (<see cref="BootFile"/>); <paramref name="node"/>'s when null.</param>
    /// <param name="routesFile">The <c>serve --config</c> routes file, loaded at start and on SIGHUP or <c>config reload</c>.</param>
    internal static WebApplication BuildApp(LbNodeOptions node, string logLevel, IReadOnlyDictionary<string, string?>? values = null, string? routesFile = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.ffffffZ ";
            o.UseUtcTimestamp = true;
        });
        // The console logger hands lines to a writer thread through a bounded queue; by default a full queue (stdout
        // slower than the log, e.g. an undrained pipe) blocks the logging thread, which can be a request's I/O thread.
        // Lose log lines instead of stalling the proxy.
        builder.Services.Configure<ConsoleLoggerOptions>(o => o.QueueFullMode = ConsoleLoggerQueueFullMode.DropWrite);
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
        // SIGTERM/SIGINT: Kestrel stops accepting at once, then in-flight requests get up to drainTimeout to finish.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = GoDuration.TryParse(node.DrainTimeout, out var drain, out _)
            ? drain
            : GoDuration.Parse(LbNodeOptions.DefaultDrainTimeout));

        // DotNext logs each election round, replication step and unreachable peer (with a stack trace); Lb.Raft hands it a
        // logger that keeps only errors and its four state transitions (a failover's phases), and logs the rest itself.
        builder.Logging.AddFilter("DotNext", level);
        // app.json is the only source of Lb's keys (no environment or appsettings overrides), bound by each package.
        var lb = new ConfigurationBuilder().AddInMemoryCollection(values ?? BootFile.ToConfiguration(node)).Build().GetSection(BootFile.SectionName);
        builder.Services.AddLoadBalancer(lb).AddRaftStore().AddAspNetCore().AddVip();
        var proxyOptions = lb.Get<ProxyOptions>() ?? new ProxyOptions();
        var adminOptions = lb.Get<AdminOptions>() ?? new AdminOptions();
        if (routesFile is not null)
        {
            builder.Services.AddSingleton(sp => new ConfigFile(routesFile, sp.GetRequiredService<Lb.Core.Store.IDesiredStateStore>(), sp.GetRequiredService<ILogger<ConfigFile>>()));
        }

        ListenAddress.TryParse(node.ProxyListenAddr, out var proxy, out _);
        ListenAddress.TryParse(node.DashboardListenAddr, out var admin, out _);
        // Inline I/O (on with the fast path, inlineIo: false turns it off): the fast path's sockets complete on the
        // socket engine's threads (FastPath/InlineCompletions.cs) and Kestrel runs connection code on the thread that
        // completed the read instead of queueing it (docs/benchmarks.md). Only the fast path's sockets complete inline:
        // admin, Raft, health probes and HTTP/2 keep thread-pool completions, so a blocking call there (fsync of a
        // config write) stalls no proxied connection; the admin pipeline also yields before its work.
        // DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 still makes every socket of the process inline.
        var inline = Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") == "1" || (proxyOptions.FastPath && proxyOptions.InlineIo);
        builder.WebHost.UseSockets(sockets => sockets.UnsafePreferInlineScheduling = inline);
        if (proxyOptions.FastPath && proxyOptions.IoLoop)
        {
            // ioLoop: the proxy listener (ListenLoadBalancerProxy below) runs on Lb's epoll loops; registered after the
            // socket transport, which keeps every other listener.
            builder.WebHost.UseLoadBalancerIoLoop();
        }
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
            // A client that stops reading must not hold its upstream connection forever (both proxy paths obey this).
            kestrel.Limits.MinResponseDataRate = proxyOptions.MinResponseDataRate > 0 ? new MinDataRate(proxyOptions.MinResponseDataRate, TimeSpan.FromSeconds(5)) : null;
            var certificate = proxyOptions.ProxyTlsCertificate.Length > 0
                ? X509Certificate2.CreateFromPemFile(proxyOptions.ProxyTlsCertificate, proxyOptions.ProxyTlsKey)
                : null;
            Listen(kestrel, proxy!, "proxy", proxyBudget, certificate, onLoop: proxyOptions.FastPath && proxyOptions.IoLoop);
            Listen(kestrel, AdminLoopbackOnly(node, adminOptions) ? admin! with { Host = "127.0.0.1" } : admin!, AdminListener, adminBudget, null);
        });

        var app = builder.Build();
        app.MapWhen(IsAdmin, adminApp =>
        {
            // Admin and dashboard work (JSON, validation, regex compilation, history files) leaves the I/O thread first:
            // with inline scheduling that thread also serves proxied connections.
            adminApp.Use(async (context, next) =>
            {
                await Task.Yield();
                await next(context);
            });
            adminApp.UseRouting();
            adminApp.UseEndpoints(endpoints =>
            {
                endpoints.MapPost("/api/config/reload", context => ReloadEndpoint.HandleAsync(context));
                endpoints.MapLoadBalancerAdmin();
                endpoints.MapLoadBalancerDashboard();
            });
        });
        app.RunLoadBalancer();
        return app;
    }

    /// <summary>
    /// No token, no opt-in, no explicit address: the admin API (which can rewrite every route) stays on this machine.
    /// An explicit non-loopback address without a token is refused by option validation instead.
    /// </summary>
    internal static bool AdminLoopbackOnly(LbNodeOptions node, AdminOptions admin) =>
        admin.AdminToken.Length == 0 && !admin.AdminInsecure && ListenAddress.TryParse(node.DashboardListenAddr, out var address, out _) && address!.Host.Length == 0;

    private static void Listen(KestrelServerOptions kestrel, ListenAddress address, string name, long maxConnections, X509Certificate2? certificate, bool onLoop = false)
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
            if (name == "proxy")
            {
                // fastPath on: HTTP/1.x is served by Lb's connection-level proxy; off, this adds nothing.
                listen.UseLoadBalancerProxy();
            }
            if (name == AdminListener)
            {
                listen.UseLoadBalancerAdmin(); // tells /api/status which bound address is the admin one
            }
            listen.Use(next => connection =>
            {
                connection.Items[ListenerKey] = name;
                return next(connection);
            });
        }

        if (onLoop && address.Host.Length == 0 && System.Net.Sockets.Socket.OSSupportsIPv6)
        {
            kestrel.ListenLoadBalancerProxy(IPAddress.IPv6Any, address.Port, Configure); // dual-mode, as ListenAnyIP
        }
        else if (onLoop && address.Host != "localhost" && IPAddress.TryParse(address.Host, out var literal))
        {
            kestrel.ListenLoadBalancerProxy(literal, address.Port, Configure);
        }
        else if (address.Host.Length == 0)
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
}
