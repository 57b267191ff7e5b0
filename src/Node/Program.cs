Console.WriteLine("dmasg: placeholder");
