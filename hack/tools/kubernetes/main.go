// Command kube is upstream's kube-apiserver, kube-controller-manager, kube-scheduler, kubelet and
// kube-proxy in one binary (like the former hyperkube): `make tools` compiles the shared packages and
// links once, and installs one symlink per component. The component is the name it is called by.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	_ "time/tzdata" // for timeZone support in CronJob

	"github.com/spf13/cobra"
	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"          // for JSON log format registration
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // load all the prometheus client-go plugins
	_ "k8s.io/component-base/metrics/prometheus/version"  // for version metric registration
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	proxy "k8s.io/kubernetes/cmd/kube-proxy/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
	kubelet "k8s.io/kubernetes/cmd/kubelet/app"
)

var components = map[string]func() *cobra.Command{
	"kube-apiserver":          func() *cobra.Command { return apiserver.NewAPIServerCommand() },
	"kube-controller-manager": func() *cobra.Command { return controllermanager.NewControllerManagerCommand() },
	"kube-scheduler":          func() *cobra.Command { return scheduler.NewSchedulerCommand() },
	"kube-proxy":              func() *cobra.Command { return proxy.NewProxyCommand() },
	"kubelet":                 kubeletCommand,
}

// kubeletCommand calls NewKubeletCommand with a context where the release takes one (1.32 and later)
// and without one before, so that the same file builds every minor that KUBE_VERSION may name.
func kubeletCommand() *cobra.Command {
	constructor := reflect.ValueOf(kubelet.NewKubeletCommand)
	var args []reflect.Value
	if constructor.Type().NumIn() == 1 {
		args = append(args, reflect.ValueOf(context.Background()))
	}
	return constructor.Call(args)[0].Interface().(*cobra.Command)
}

func main() {
	name := filepath.Base(os.Args[0])
	command, ok := components[name]
	if !ok {
		names := make([]string, 0, len(components))
		for known := range components {
			names = append(names, known)
		}
		sort.Strings(names)
		fmt.Fprintf(os.Stderr, "kube: called as %q; call it through a symlink named one of %v\n", name, names)
		os.Exit(2)
	}
	os.Exit(cli.Run(command()))
}
