// The conformance functions written with the official StateFun Go SDK
// (github.com/apache/flink-statefun/statefun-sdk-go/v3 v3.3.0), served as its docs do:
// net/http with the builder's AsHandler(). One path per function type, each with its own
// builder, so the module's {function.name} template is what routes a call. Contract:
// docs/statefun-compatibility.md, "Conformance".
//
// Run: go run . (in this directory); prints "listening on 127.0.0.1:<port>".
package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/apache/flink-statefun/statefun-sdk-go/v3/pkg/statefun"
)

var out = statefun.TypeNameFrom("conformance/out")

var (
	valueSpec = statefun.ValueSpec{Name: "value", ValueType: statefun.StringType}
	neverSpec = statefun.ValueSpec{Name: "never", ValueType: statefun.Int32Type}
	wSpec     = statefun.ValueSpec{Name: "w", ValueType: statefun.StringType, Expiration: statefun.ExpireAfterWrite(60 * time.Second)}
	cSpec     = statefun.ValueSpec{Name: "c", ValueType: statefun.StringType, Expiration: statefun.ExpireAfterCall(60 * time.Second)}
	logSpec   = statefun.ValueSpec{Name: "log", ValueType: statefun.StringType}
)

func address(a statefun.Address) string {
	return fmt.Sprintf("%s/%s/%s", a.FunctionType.GetNamespace(), a.FunctionType.GetType(), a.Id)
}

func report(ctx statefun.Context, text string) {
	ctx.SendEgress(statefun.GenericEgressBuilder{Target: out, Value: text, ValueType: statefun.StringType})
}

// show reads a state for a report: its value, or "-" when absent.
func show(ctx statefun.Context, spec statefun.ValueSpec) string {
	if spec.ValueType == statefun.Int32Type {
		var n int32
		if ctx.Storage().Get(spec, &n) {
			return strconv.Itoa(int(n))
		}
		return "-"
	}
	var s string
	if ctx.Storage().Get(spec, &s) {
		return s
	}
	return "-"
}

func store(ctx statefun.Context, message statefun.Message) error {
	command, arg, _ := strings.Cut(message.AsString(), " ")
	storage := ctx.Storage()
	switch command {
	case "set":
		storage.Set(valueSpec, arg)
	case "del":
		storage.Remove(valueSpec)
	case "setw":
		storage.Set(wSpec, arg)
	case "setc":
		storage.Set(cSpec, arg)
	case "append":
		var log string
		if storage.Get(logSpec, &log) {
			storage.Set(logSpec, log+","+arg)
		} else {
			storage.Set(logSpec, arg)
		}
	case "noop":
	case "peek":
		report(ctx, fmt.Sprintf("value=%s never=%s w=%s c=%s log=%s",
			show(ctx, valueSpec), show(ctx, neverSpec), show(ctx, wSpec), show(ctx, cSpec), show(ctx, logSpec)))
	case "fail":
		return errors.New("conformance: fail requested")
	default:
		return fmt.Errorf("%s: unknown command %s", address(ctx.Self()), command)
	}
	return nil
}

func relay(own, other string) statefun.StatefulFunctionPointer {
	ownType, otherType := statefun.TypeNameFrom("conformance/"+own), statefun.TypeNameFrom("conformance/"+other)
	return func(ctx statefun.Context, message statefun.Message) error {
		words := strings.Split(message.AsString(), " ")
		caller := "-"
		if ctx.Caller() != nil {
			caller = address(*ctx.Caller())
		}
		say := func(text string) { report(ctx, fmt.Sprintf("%s %s caller=%s", address(ctx.Self()), text, caller)) }
		switch words[0] {
		case "bounce", "loop":
			n, err := strconv.Atoi(words[1])
			if err != nil {
				return err
			}
			say(fmt.Sprintf("%s %d", words[0], n))
			target := otherType
			if words[0] == "loop" {
				target = ownType
			}
			if n > 0 {
				ctx.Send(statefun.MessageBuilder{
					Target: statefun.Address{FunctionType: target, Id: ctx.Self().Id},
					Value:  fmt.Sprintf("%s %d", words[0], n-1),
				})
			}
		case "later":
			ms, err := strconv.Atoi(words[1])
			if err != nil {
				return err
			}
			note := statefun.MessageBuilder{Target: ctx.Self(), Value: "note " + words[3]}
			if words[2] == "-" {
				ctx.SendAfter(time.Duration(ms)*time.Millisecond, note)
			} else {
				token, err := statefun.NewCancellationToken(words[2])
				if err != nil {
					return err
				}
				ctx.SendAfterWithCancellationToken(time.Duration(ms)*time.Millisecond, token, note)
			}
		case "cancel":
			token, err := statefun.NewCancellationToken(words[1])
			if err != nil {
				return err
			}
			ctx.CancelDelayedMessage(token)
		case "note":
			say("note " + words[1])
		case "kafka":
			ctx.SendEgress(statefun.KafkaEgressBuilder{
				Target: statefun.TypeNameFrom("conformance/kafka"), Topic: words[1], Key: words[2], Value: words[3],
			})
		case "kinesis":
			ctx.SendEgress(statefun.KinesisEgressBuilder{
				Target: statefun.TypeNameFrom("conformance/kinesis"), Stream: words[1], PartitionKey: words[2],
				ExplicitHashKey: words[3], Value: words[4],
			})
		default:
			return fmt.Errorf("%s: unknown command %s", address(ctx.Self()), words[0])
		}
		return nil
	}
}

var (
	intSpec    = statefun.ValueSpec{Name: "int_v", ValueType: statefun.Int32Type}
	longSpec   = statefun.ValueSpec{Name: "long_v", ValueType: statefun.Int64Type}
	floatSpec  = statefun.ValueSpec{Name: "float_v", ValueType: statefun.Float32Type}
	doubleSpec = statefun.ValueSpec{Name: "double_v", ValueType: statefun.Float64Type}
	boolSpec   = statefun.ValueSpec{Name: "bool_v", ValueType: statefun.BoolType}
	stringSpec = statefun.ValueSpec{Name: "string_v", ValueType: statefun.StringType}
)

func types(ctx statefun.Context, message statefun.Message) error {
	keep := func(spec statefun.ValueSpec, value interface{}) {
		ctx.Storage().Set(spec, value)
		ctx.SendEgress(statefun.GenericEgressBuilder{Target: out, Value: value, ValueType: spec.ValueType})
	}
	switch {
	case message.IsInt32():
		keep(intSpec, message.AsInt32()+1)
	case message.IsInt64():
		keep(longSpec, message.AsInt64()+1)
	case message.IsFloat32():
		keep(floatSpec, message.AsFloat32()*2)
	case message.IsFloat64():
		keep(doubleSpec, message.AsFloat64()*2)
	case message.IsBool():
		keep(boolSpec, !message.AsBool())
	case message.IsString():
		keep(stringSpec, message.AsString()+"!")
	default:
		return fmt.Errorf("conformance/types: not a built-in type: %s", message.ValueTypeName())
	}
	return nil
}

func main() {
	storeSpecs := []statefun.ValueSpec{valueSpec, neverSpec, wSpec, cSpec, logSpec}
	// conformance/faulty is the store function under another type, whose endpoint gives up sooner.
	functions := []struct {
		name   string
		fn     statefun.StatefulFunction
		states []statefun.ValueSpec
	}{
		{"store", statefun.StatefulFunctionPointer(store), storeSpecs},
		{"faulty", statefun.StatefulFunctionPointer(store), storeSpecs},
		{"ping", relay("ping", "pong"), nil},
		{"pong", relay("pong", "ping"), nil},
		{"types", statefun.StatefulFunctionPointer(types), []statefun.ValueSpec{intSpec, longSpec, floatSpec, doubleSpec, boolSpec, stringSpec}},
	}
	mux := http.NewServeMux()
	for _, f := range functions {
		builder := statefun.StatefulFunctionsBuilder()
		if err := builder.WithSpec(statefun.StatefulFunctionSpec{
			FunctionType: statefun.TypeNameFrom("conformance/" + f.name), States: f.states, Function: f.fn,
		}); err != nil {
			panic(err)
		}
		mux.Handle("/"+f.name, builder.AsHandler())
	}
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	fmt.Printf("listening on %s\n", listener.Addr())
	panic(http.Serve(listener, mux))
}
