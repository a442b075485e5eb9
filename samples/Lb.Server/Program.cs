using Lb.Server;

return await Cli.RunAsync(args);
